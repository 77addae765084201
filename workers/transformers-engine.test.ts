// Drives the real TransformersEngine in Node, on onnxruntime-node, against the generated tiny phi
// model served over HTTP the way the app loads a folder URL. The reference numbers come from a
// separate onnxruntime-node session on the same ONNX bytes, so they share no code with the engine.

import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { CodeGenTokenizer, env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestModel, writeTestModel } from '../scripts/test-model/build';
import type { GenerationParams } from './engine';
import { logSoftmaxAt } from './labels';
import type { EngineInfo, FileProgress, ModelSource, PrefillCount } from './protocol';
import { TransformersEngine } from './transformers-engine';

const model = buildTestModel();
const { config, vocab } = model;
const V = config.vocabSize;
const json = (path: string) => JSON.parse(new TextDecoder().decode(model.files.get(path)!));
// An independent tokenizer built from the very files the server hands out.
const tokenizer = new CodeGenTokenizer(json('tokenizer.json'), json('tokenizer_config.json'));

const PROMPT = 'Hello! Can you tell me a joke about sales?\nThe category is';
const MULTI = ' xylophone quantum';
const GREEDY: GenerationParams = { maxNewTokens: 30, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };

let dir: string;
const servers: Server[] = [];
let source: ModelSource;
let session: ort.InferenceSession;
const engine = new TransformersEngine({ device: 'cpu' });
let info: EngineInfo;
const progress: FileProgress[][] = [];

/** Every position's logits for `ids`, in one pass with an empty KV cache. */
async function referenceLogits(ids: number[]): Promise<Float32Array> {
  const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids),
    attention_mask: int64(ids.map(() => 1)),
    position_ids: int64(ids.map((_, i) => i)),
  };
  for (let l = 0; l < config.numLayers; l++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${l}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, config.numHeads, 0, config.headDim]);
    }
  }
  const out = await session.run(feeds);
  return out.logits!.data as Float32Array;
}

/** log p(continuation | prompt) from one pass over prompt + continuation. */
async function referenceScore(promptIds: number[], continuationIds: number[]): Promise<number> {
  const ids = [...promptIds, ...continuationIds];
  const logits = await referenceLogits(ids);
  let score = 0;
  for (let i = promptIds.length; i < ids.length; i++) score += logSoftmaxAt(logits, (i - 1) * V, V, ids[i]!);
  return score;
}

async function referenceGreedy(promptIds: number[], steps: number): Promise<number[]> {
  const ids = [...promptIds];
  for (let s = 0; s < steps; s++) {
    const row = (await referenceLogits(ids)).subarray((ids.length - 1) * V);
    let best = 0;
    for (let i = 1; i < V; i++) if (row[i]! > row[best]!) best = i;
    ids.push(best);
  }
  return ids.slice(promptIds.length);
}

const collect = () => {
  const pieces: string[] = [];
  return { pieces, onText: (text: string) => (pieces.push(text), true) };
};

/**
 * Serves `root` at `http://127.0.0.1:<ephemeral port>/`. Like some static hosts it does not merge
 * slashes: `//file` is a protocol-relative reference and so a 404.
 */
async function serve(root: string): Promise<string> {
  const server = createServer(async (request, response) => {
    const file = normalize(join(root, decodeURIComponent(new URL(request.url!, 'http://x').pathname)));
    const size = file.startsWith(root) ? await stat(file).then((s) => (s.isFile() ? s.size : -1), () => -1) : -1;
    if (size < 0) return response.writeHead(404).end();
    // Content-Length lets transformers.js report byte progress.
    response.writeHead(200, { 'Content-Length': size });
    createReadStream(file).pipe(response);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

const folderSource = (id: string): ModelSource => ({ id, dtype: 'fp32', file: 'model', externalData: false });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phi-engine-'));
  await writeTestModel(join(dir, 'models/phi-tiny'), model);
  // A folder under a sub-path, the way the app's own server and the e2e tests mount it.
  source = folderSource(`${await serve(dir)}models/phi-tiny/`);

  // In Node transformers.js hands onnxruntime-node a file path, so it needs its file cache; that
  // defaults to node_modules, where every run (a new port, so a new folder id) would leave a copy.
  env.cacheDir = join(dir, 'cache');
  session = await ort.InferenceSession.create(model.files.get('onnx/model.onnx')!);
  info = await engine.load(source, (files) => progress.push(files));
});

afterAll(async () => {
  await engine.unload();
  await session?.release();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await rm(dir, { recursive: true, force: true });
});

describe('TransformersEngine on onnxruntime-node', () => {
  it('loads the folder and reports progress for the ONNX file', () => {
    expect(info).toMatchObject({ engine: 'transformers.js', device: 'cpu', model: source.id, dtype: 'fp32', contextSize: 2048 });
    const onnx = progress.at(-1)!.find((f) => f.file === 'onnx/model.onnx');
    expect(onnx).toMatchObject({ done: true, total: model.files.get('onnx/model.onnx')!.length });
    expect(onnx!.loaded).toBe(onnx!.total);
    // Byte progress arrived before the file was done.
    expect(progress.some((files) => files.some((f) => f.file === 'onnx/model.onnx' && !f.done && f.loaded > 0))).toBe(true);
  });

  it('counts tokens like the tokenizer', () => {
    for (const text of [PROMPT, MULTI, 'héllo 👋', '']) {
      expect(engine.countTokens(text), text).toBe(tokenizer.encode(text).length);
    }
  });

  it('scores single- and multi-token continuations like one full forward pass', async () => {
    const continuations = [' support', ' sales', ' joke', MULTI];
    const ids = continuations.map((text) => tokenizer.encode(text));
    expect(ids.slice(0, 3).map((t) => t.length)).toEqual([1, 1, 1]);
    // Only a continuation of several tokens exercises the pass on top of the prompt's KV cache.
    expect(ids[3]!.length).toBeGreaterThanOrEqual(3);

    const scores = await engine.scoreContinuations(PROMPT, continuations);
    const promptIds = tokenizer.encode(PROMPT);
    expect(scores).toHaveLength(continuations.length);
    for (const [i, text] of continuations.entries()) {
      const expected = await referenceScore(promptIds, ids[i]!);
      expect(Number.isFinite(scores[i]), text).toBe(true);
      expect(Math.abs(scores[i]! - expected), `${text}: ${scores[i]} vs ${expected}`).toBeLessThan(1e-4);
    }
    // A continuation scored alone gets the same number as in the batch, now from the prompt's
    // cached KV (the last prompt token is recomputed for its logits, in another summation order).
    const prefills: PrefillCount[] = [];
    const [again] = await engine.scoreContinuations(PROMPT, [MULTI], { onPrefill: (count) => prefills.push(count) });
    expect(Math.abs(again! - scores[3]!)).toBeLessThan(1e-4);
    expect(prefills).toEqual([{ cached: promptIds.length - 1, computed: 1 }]);
  });

  it('streams the greedy continuation and ends at the token limit', async () => {
    const expectedIds = await referenceGreedy(tokenizer.encode(PROMPT), GREEDY.maxNewTokens);
    expect(expectedIds).not.toContain(vocab.eosId);
    const { pieces, onText } = collect();
    const end = await engine.generate(PROMPT, GREEDY, onText, new AbortController().signal);
    expect(end).toBe('length');
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join('')).toBe(tokenizer.decode(expectedIds, { skip_special_tokens: true }));
    for (const piece of pieces) expect(piece).not.toContain('\uFFFD');
  });

  it('stops when onText returns false', async () => {
    const pieces: string[] = [];
    const end = await engine.generate(PROMPT, GREEDY, (text) => pieces.push(text) < 3, new AbortController().signal);
    expect(end).toBe('stopped');
    expect(pieces).toHaveLength(3);
  });

  it('stops at once on an already-aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const { pieces, onText } = collect();
    const started = performance.now();
    expect(await engine.generate(PROMPT, GREEDY, onText, controller.signal)).toBe('stopped');
    expect(performance.now() - started).toBeLessThan(1000);
    // The engine checks the signal between forward passes, so at most the first token gets through.
    expect(pieces.length).toBeLessThanOrEqual(1);
  });

  it('stops when the signal is aborted mid-way', async () => {
    const controller = new AbortController();
    const pieces: string[] = [];
    const onText = (text: string) => {
      // As a Stop message would: a task queued behind the pass in flight (the engine yields by setImmediate in Node).
      if (pieces.push(text) === 2) setImmediate(() => controller.abort());
      return true;
    };
    expect(await engine.generate(PROMPT, { ...GREEDY, maxNewTokens: 200 }, onText, controller.signal)).toBe('stopped');
    // The abort lands before the next forward pass; at most the token of that pass still streams.
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    expect(pieces.length).toBeLessThanOrEqual(3);
  });

  it('loads a folder served at the root of its origin', async () => {
    const atRoot = new TransformersEngine({ device: 'cpu' });
    const info = await atRoot.load(folderSource(await serve(join(dir, 'models/phi-tiny'))), () => {});
    try {
      expect(info.contextSize).toBe(2048);
      expect(atRoot.countTokens(PROMPT)).toBe(tokenizer.encode(PROMPT).length);
    } finally {
      await atRoot.unload();
    }
  });

  it('refuses to work after unload', async () => {
    await engine.unload();
    expect(() => engine.countTokens('hi')).toThrow(/No model is loaded/);
    await expect(engine.scoreContinuations(PROMPT, [' support'])).rejects.toThrow(/No model is loaded/);
  });
});
