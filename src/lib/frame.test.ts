import { describe, expect, it } from 'vitest';
import { oncePerFrame } from './frame';

function fakeFrames() {
  const callbacks = new Map<number, FrameRequestCallback>();
  let next = 1;
  return {
    request: (callback: FrameRequestCallback) => (callbacks.set(next, callback), next++),
    cancel: (handle: number) => void callbacks.delete(handle),
    pending: () => callbacks.size,
    tick() {
      const due = [...callbacks.values()];
      callbacks.clear();
      for (const callback of due) callback(0);
    },
  };
}

describe('oncePerFrame', () => {
  it('runs once per frame however often it is scheduled', () => {
    const frames = fakeFrames();
    let runs = 0;
    const render = oncePerFrame(() => runs++, frames.request, frames.cancel);
    for (let i = 0; i < 50; i++) render.schedule();
    expect(runs).toBe(0);
    expect(frames.pending()).toBe(1);
    frames.tick();
    expect(runs).toBe(1);
    frames.tick();
    expect(runs).toBe(1);
    render.schedule();
    render.schedule();
    frames.tick();
    expect(runs).toBe(2);
  });

  it('flush runs at once and drops the pending frame', () => {
    const frames = fakeFrames();
    let runs = 0;
    const render = oncePerFrame(() => runs++, frames.request, frames.cancel);
    render.schedule();
    render.flush();
    expect(runs).toBe(1);
    expect(frames.pending()).toBe(0);
    frames.tick();
    expect(runs).toBe(1);
  });

  it('cancel leaves nothing to run', () => {
    const frames = fakeFrames();
    let runs = 0;
    const render = oncePerFrame(() => runs++, frames.request, frames.cancel);
    render.schedule();
    render.cancel();
    frames.tick();
    expect(runs).toBe(0);
  });
});
