import { describe, expect, it } from 'vitest';
import { webllmProgressTracker } from './webllm-progress';

const MiB = 2 ** 20;

describe('webllmProgressTracker', () => {
  it('turns a first download into one file entry in bytes, then names the GPU steps', () => {
    const track = webllmProgressTracker('phi-2-q4f32_1-MLC weights');
    expect(track({ progress: 0, timeElapsed: 0, text: 'Start to fetch params' })).toEqual({ files: [], stage: 'Preparing the GPU model: 0%' });

    const first = track({ progress: 0.25, timeElapsed: 3, text: 'Fetching param cache[1/4]: 400MB fetched. 25% completed, 3 secs elapsed. It can take a while …' });
    expect(first.stage).toBeUndefined();
    expect(first.files).toEqual([{ file: 'phi-2-q4f32_1-MLC weights', loaded: 400 * MiB, total: 1600 * MiB, done: false }]);

    const last = track({ progress: 1, timeElapsed: 9, text: 'Fetching param cache[4/4]: 1600MB fetched. 100% completed, 9 secs elapsed.' });
    expect(last.files).toEqual([{ file: 'phi-2-q4f32_1-MLC weights', loaded: 1600 * MiB, total: 1600 * MiB, done: true }]);

    expect(track({ progress: 0.5, timeElapsed: 10, text: 'Loading model from cache[2/4]: 800MB loaded. 50% completed, 10 secs elapsed.' })).toEqual({
      files: last.files,
      stage: 'Loading the weights onto the GPU: 50%',
    });
    expect(track({ progress: 0.4, timeElapsed: 12, text: 'Loading GPU shader modules[40/100]: 40% completed, 12 secs elapsed.' }).stage).toBe('Compiling GPU shaders: 40%');
    expect(track({ progress: 1, timeElapsed: 14, text: 'Finish loading on WebGPU - nvidia' }).stage).toBe('Starting the model on the GPU');
  });

  it('shows no download when the weights come from the cache', () => {
    const track = webllmProgressTracker('w');
    expect(track({ progress: 0.1, timeElapsed: 1, text: 'Loading model from cache[1/10]: 160MB loaded. 10% completed, 1 secs elapsed.' })).toEqual({
      files: [],
      stage: 'Loading the weights onto the GPU: 10%',
    });
  });
});
