import { describe, expect, it } from 'vitest';
import { describeWriteError, PendingWrites } from './pending-writes';

/** A store with room for `room` more writes; each write records what it wrote. */
function storage(room: number) {
  const written: string[] = [];
  const state = { room };
  const write = (what: string) => async () => {
    if (state.room <= 0) throw new DOMException('Quota exceeded.', 'QuotaExceededError');
    state.room -= 1;
    written.push(what);
  };
  return { written, state, write };
}

describe('PendingWrites', () => {
  it('reports a failed write instead of throwing, keeps it, and writes it once storage has room', async () => {
    const reports: unknown[] = [];
    const pending = new PendingWrites((error) => reports.push(error));
    const disk = storage(0);
    expect(await pending.run(disk.write('user message'), 'c/m1')).toBe(false);
    expect(pending.size).toBe(1);
    expect((reports[0] as Error).name).toBe('QuotaExceededError');

    disk.state.room = 10;
    expect(await pending.run(disk.write('reply'), 'c/m2')).toBe(true);
    // The write that succeeded shows there is room, so the kept one follows, and all is well.
    expect(disk.written).toEqual(['reply', 'user message']);
    expect(pending.size).toBe(0);
    expect(reports.at(-1)).toBeNull();
  });

  it('keeps only the latest write per key, and retrying stops at the first that still fails', async () => {
    const reports: unknown[] = [];
    const pending = new PendingWrites((error) => reports.push(error));
    const disk = storage(0);
    await pending.run(disk.write('reply, 3 tokens'), 'c/m2');
    await pending.run(disk.write('reply, 9 tokens'), 'c/m2');
    await pending.run(disk.write('conversation'), 'c');
    expect(pending.size).toBe(2);

    disk.state.room = 1;
    await pending.retry();
    expect(disk.written).toEqual(['reply, 9 tokens']);
    expect(pending.size).toBe(1);
    expect(reports.at(-1)).not.toBeNull();

    disk.state.room = 1;
    await pending.retry();
    expect(disk.written).toEqual(['reply, 9 tokens', 'conversation']);
    expect(reports.at(-1)).toBeNull();
  });

  it('forgets the kept writes of what was deleted: a conversation and its messages, or one message', async () => {
    const pending = new PendingWrites(() => {});
    const disk = storage(0);
    for (const key of ['c1', 'c1/m1', 'c1/m2', 'c10/m1', 'c2/m1']) await pending.run(disk.write(key), key);
    pending.forget('c2/m1');
    pending.forget('c1');
    disk.state.room = 10;
    await pending.retry();
    expect(disk.written).toEqual(['c10/m1']);
  });

  it('says in words what happened and what to do', () => {
    expect(describeWriteError(new DOMException('Quota exceeded.', 'QuotaExceededError'))).toMatch(/storage is full.*stay here.*Storage can delete a stored model.*Save again/);
    expect(describeWriteError(new Error('The database connection is closing.'))).toMatch(/could not be saved \(The database connection is closing\.\)/);
  });
});
