/** Peak resident memory of a process and all its descendants (Chromium's page, GPU and worker processes), sampled from /proc. */
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

const PAGE_BYTES = 4096;

/**
 * A /proc `stat` file (a process's or a thread's): its command name, and the fields after it,
 * `fields[0]` being stat's field 3. The name may hold spaces and parentheses: it ends at the last ')'.
 */
export function readStat(path: string): { name: string; fields: string[] } {
  const stat = readFileSync(path, 'utf8');
  const end = stat.lastIndexOf(')');
  return { name: stat.slice(stat.indexOf('(') + 1, end), fields: stat.slice(end + 2).split(' ') };
}

/** A process's parent (stat's field 4). */
export const parentPid = (pid: number | string) => Number(readStat(`/proc/${pid}/stat`).fields[1]);

/**
 * This process's children that run `executable`: Playwright starts the browser as one. Matched by
 * the program's name, since Debian's /usr/bin/chromium is a script that starts /usr/lib/chromium/chromium.
 */
export function childrenRunning(executable: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const program = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')[0];
        return parentPid(name) === process.pid && basename(program) === basename(executable);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** `root` and every process below it, from /proc's parent ids. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = parentPid(name);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // The process ended between listing and reading.
    }
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.pop()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function treeRss(root: number): number {
  let bytes = 0;
  for (const pid of processTree(root)) {
    try {
      bytes += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
    } catch {
      // The process ended meanwhile.
    }
  }
  return bytes;
}

/** Samples every `intervalMs` until `stop()`, which returns the peak in bytes. */
export function samplePeakRss(root: number, intervalMs = 250) {
  let peak = treeRss(root);
  const timer = setInterval(() => (peak = Math.max(peak, treeRss(root))), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, treeRss(root));
    },
  };
}
