import type { WebLLMVariant } from '../../workers/webllm-models';
import { describe, expect, it } from 'vitest';
import type { Response } from '../../workers/protocol';
import { InferenceClient } from './inference-client';

/** Stands in for the inference worker: records what it is sent and whether it was ended. */
class RecordingWorker extends EventTarget {
  readonly sent: unknown[] = [];
  terminated = false;
  postMessage(message: unknown) {
    this.sent.push(message);
  }
  terminate() {
    this.terminated = true;
  }
  answer(response: Response) {
    this.dispatchEvent(new MessageEvent('message', { data: response }));
  }
}

function client() {
  const workers: RecordingWorker[] = [];
  const inference = new InferenceClient(
    () => {
      workers.push(new RecordingWorker());
      return workers.at(-1) as unknown as Worker;
    },
    () => undefined,
  );
  return { inference, workers };
}

const LOAD = { type: 'load', model: { name: 'm', gpuVariants: [] as WebLLMVariant[] }, source: { id: 'http://localhost/m/', dtype: 'fp32', file: 'model', externalData: false }, gpuSource: { weightsBaseUrl: '', libBaseUrl: '' }, preference: 'auto' } as const;

describe('InferenceClient.restart', () => {
  it('ends the worker once nothing is open, and the next request starts a fresh one', () => {
    const { inference, workers } = client();
    const id = inference.send(LOAD, (response) => {
      if (response.type === 'error') inference.restart();
    });
    workers[0].answer({ id, type: 'error', message: 'onnx/model.onnx is broken or not part of a transformers.js model.' });
    expect(workers[0].terminated).toBe(true);
    inference.send(LOAD, () => undefined);
    expect(workers).toHaveLength(2);
    expect(workers[1].sent).toHaveLength(1);
  });

  it('keeps the worker while another request is still open', () => {
    const { inference, workers } = client();
    const failed = inference.send(LOAD, () => undefined);
    inference.send(LOAD, () => undefined);
    workers[0].answer({ id: failed, type: 'error', message: 'Cancelled: another model was asked for.' });
    inference.restart();
    expect(workers[0].terminated).toBe(false);
  });
});

describe('InferenceClient.terminate', () => {
  it('ends the worker at once, ends every open request with the message, and the next request starts a fresh one', () => {
    const { inference, workers } = client();
    const seen: Response[] = [];
    const id = inference.send(LOAD, (response) => seen.push(response));
    inference.terminate('Loading m was cancelled.');
    expect(workers[0].terminated).toBe(true);
    expect(seen).toEqual([{ id, type: 'error', message: 'Loading m was cancelled.' }]);
    // The ended worker's late answers reach nobody.
    workers[0].answer({ id, type: 'error', message: 'late' });
    expect(seen).toHaveLength(1);
    inference.send(LOAD, () => undefined);
    expect(workers).toHaveLength(2);
  });
});
