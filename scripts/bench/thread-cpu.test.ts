import { describe, expect, it } from 'vitest';
import { cpuBetween, pageCpu, pageCpuWithin, type ThreadTimes } from './thread-cpu';

const times = (entries: [string, string, number][]): ThreadTimes => new Map(entries.map(([key, name, ms]) => [key, { name, ms }]));

describe('the CPU the page spends around the model', () => {
  it('counts threads by name, new threads from zero', () => {
    const before = times([['1/1', 'renderer/chromium', 100], ['1/2', 'renderer/Compositor', 10]]);
    const after = times([['1/1', 'renderer/chromium', 130], ['1/2', 'renderer/Compositor', 10], ['1/3', 'renderer/Compositor', 5]]);
    expect(cpuBetween(before, after)).toEqual(new Map([['renderer/chromium', 30], ['renderer/Compositor', 5]]));
  });

  it("leaves out the renderer's workers and its thread pool, and lists the rest most first", () => {
    const spent = new Map([
      ['renderer/DedicatedWorker', 900],
      ['renderer/ThreadPoolForeg', 40],
      ['renderer/chromium', 30],
      ['gpu-process/VizCompositorTh', 20],
      ['browser/ThreadPoolForeg', 5],
    ]);
    expect(pageCpu(spent)).toEqual({ ms: 55, threads: [['renderer/chromium', 30], ['gpu-process/VizCompositorTh', 20], ['browser/ThreadPoolForeg', 5]] });
  });

  it('takes the readings around a window: the last before it starts, the first after it ends', () => {
    const main = (ms: number) => times([['1/1', 'renderer/chromium', ms]]);
    const samples = [
      { at: 1000, times: main(0) },
      { at: 1100, times: main(10) },
      { at: 1200, times: main(50) },
      { at: 1300, times: main(90) },
      { at: 1400, times: main(95) },
    ];
    expect(pageCpuWithin(samples, 1150, 1250).ms).toBe(80);
    expect(pageCpuWithin(samples, 1100, 1300).ms).toBe(80);
    expect(pageCpuWithin(samples, 0, 5000).ms).toBe(95);
  });
});
