export type Write = () => Promise<void>;

/**
 * Runs the writes to IndexedDB so that a failed one (storage full, say) loses nothing: the change
 * stays on screen, the failure is reported, and the write is kept, by key, to be tried again. The
 * latest write per key wins (a reply saved as it grows needs only its last save). Once any write
 * succeeds again, storage has room: the kept ones follow.
 */
export class PendingWrites {
  private readonly failed = new Map<string, Write>();
  private retrying = false;

  /** `report` hears each failure, and `null` once nothing is left unwritten. */
  constructor(private readonly report: (error: unknown) => void) {}

  get size() {
    return this.failed.size;
  }

  /** Runs `write`; if it fails, it is kept under `key` (if given) and reported. Never throws. */
  async run(write: Write, key?: string): Promise<boolean> {
    try {
      await write();
    } catch (error) {
      if (key !== undefined) this.failed.set(key, write);
      this.report(error);
      return false;
    }
    if (key !== undefined) this.failed.delete(key);
    if (!this.retrying) await this.retry();
    return true;
  }

  /** Tries the kept writes again, oldest first, stopping at the first that still fails. */
  async retry() {
    if (this.retrying) return;
    this.retrying = true;
    try {
      for (const [key, write] of [...this.failed]) {
        if (!(await this.run(write, key))) return;
      }
    } finally {
      this.retrying = false;
    }
    this.report(null);
  }

  /** Drops the kept write under `key`, and those under `key/…`: what they would write was deleted. */
  forget(key: string) {
    for (const kept of [...this.failed.keys()]) if (kept === key || kept.startsWith(`${key}/`)) this.failed.delete(kept);
  }
}

/** What the user reads when changes cannot be written. */
export function describeWriteError(error: unknown): string {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'QuotaExceededError') {
    return "This device's storage is full, so your latest messages are not saved yet. They stay here while this tab is open. Free some space (Storage can delete a stored model), then choose Save again.";
  }
  const detail = error instanceof Error ? error.message : String(error);
  return `Your latest messages could not be saved (${detail}). They stay here while this tab is open; choose Save again to retry.`;
}
