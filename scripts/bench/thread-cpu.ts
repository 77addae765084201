/**
 * CPU time of every thread of a process tree (Chromium's browser, GPU and renderer processes), by
 * thread name, from /proc: what the page costs while a reply streams, apart from the inference
 * worker's own threads, without a tracer's overhead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { processTree, readStat } from './memory';

/** Linux reports CPU time in clock ticks of 10 ms (USER_HZ). */
const TICK_MS = 10;

/** Milliseconds of CPU (user + system) per thread, keyed by `pid/tid`, named `process type/thread name`. */
export type ThreadTimes = Map<string, { name: string; ms: number }>;

/** Every thread's CPU time so far in `processes`. */
export function threadTimes(processes: readonly number[]): ThreadTimes {
  const times: ThreadTimes = new Map();
  for (const pid of processes) {
    let tids: string[];
    let type: string;
    try {
      tids = readdirSync(`/proc/${pid}/task`);
      type = /--type=([\w-]+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))?.[1] ?? 'browser';
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const { name, fields } = readStat(`/proc/${pid}/task/${tid}/stat`);
        // utime and stime are stat's fields 14 and 15.
        times.set(`${pid}/${tid}`, { name: `${type}/${name}`, ms: (Number(fields[11]) + Number(fields[12])) * TICK_MS });
      } catch {
        // The thread ended between listing and reading.
      }
    }
  }
  return times;
}

/**
 * CPU milliseconds spent between two readings, by thread name. Threads that started in between
 * count from zero; the inference worker and onnxruntime's threads are the `DedicatedWorker` ones.
 */
export function cpuBetween(before: ThreadTimes, after: ThreadTimes): Map<string, number> {
  const byName = new Map<string, number>();
  for (const [key, { name, ms }] of after) {
    const spent = ms - (before.get(key)?.ms ?? 0);
    if (spent > 0) byName.set(name, (byName.get(name) ?? 0) + spent);
  }
  return byName;
}

/**
 * The CPU spent around the model rather than in it: every thread but the renderer's workers (the
 * inference worker and onnxruntime's, all `DedicatedWorker`) and its thread pool (V8 compiling and
 * collecting for those workers, mostly): the page's main thread, its compositor, the GPU process
 * drawing, the browser process. With the threads that spent it, most first.
 */
export function pageCpu(byName: Map<string, number>): { ms: number; threads: [string, number][] } {
  const threads = [...byName].filter(([name]) => !/^renderer\/(DedicatedWorker|ThreadPool)/.test(name)).sort((a, b) => b[1] - a[1]);
  return { ms: threads.reduce((sum, [, ms]) => sum + ms, 0), threads };
}

/**
 * Readings of `threadTimes` every `everyMs` until `stop()`, stamped with `Date.now()`, of the
 * processes under `root` at the start: listing them anew is most of a reading's cost, which is CPU
 * taken from the browser being measured (1 to 2 ms a reading for Chromium's 100 threads, against 9).
 */
export function sampleThreadTimes(root: number, everyMs = 100) {
  const processes = processTree(root);
  const samples: { at: number; times: ThreadTimes }[] = [];
  const take = () => samples.push({ at: Date.now(), times: threadTimes(processes) });
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/**
 * The page's CPU (see `pageCpu`) from the last reading at or before `from` to the first at or
 * after `to` (epoch milliseconds): a reply's streaming, without the work before and after it.
 */
export function pageCpuWithin(samples: readonly { at: number; times: ThreadTimes }[], from: number, to: number) {
  const start = samples.filter((s) => s.at <= from).at(-1) ?? samples[0];
  const end = samples.find((s) => s.at >= to) ?? samples.at(-1)!;
  return pageCpu(cpuBetween(start.times, end.times));
}
