// KV-cache reuse on the real TransformersEngine in Node (onnxruntime-node), on the generated tiny
// phi model served over HTTP as the app loads a folder. Every reused answer is checked against an
// engine that keeps no cache, or against an independent onnxruntime session on the same bytes.

import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { CodeGenTokenizer, env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedConversation } from '../scripts/scripted-conversation';
import { buildTestModel, writeTestModel } from '../scripts/test-model/build';
import type { GenerationParams } from './engine';
import type { ModelSource, PrefillCount } from './protocol';
import { PREFILL_CHUNK } from './heap-budget';
import { commonPrefixLength } from './kv-cache';
import { seededRandom } from './sampling';
import { TransformersEngine } from './transformers-engine';

const model = buildTestModel();
const { config } = model;
const V = config.vocabSize;
const json = (path: string) => JSON.parse(new TextDecoder().decode(model.files.get(path)!));
const tokenizer = new CodeGenTokenizer(json('tokenizer.json'), json('tokenizer_config.json'));
const GREEDY: GenerationParams = { maxNewTokens: 24, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.15 };
const PREAMBLE = 'You are a chatbot having a conversation with a human.\nHuman: my laptop screen is broken\nChatbot: I am sorry to hear that.\n';

let dir: string;
let server: Server;
let source: ModelSource;
let session: ort.InferenceSession;
const engines: TransformersEngine[] = [];

async function loaded(options: ConstructorParameters<typeof TransformersEngine>[0] = {}): Promise<TransformersEngine> {
  const engine = new TransformersEngine({ device: 'cpu', ...options });
  await engine.load(source, () => {});
  engines.push(engine);
  return engine;
}

async function run(engine: TransformersEngine, prompt: string, params = GREEDY, signal = new AbortController().signal) {
  let text = '';
  let prefill: PrefillCount | undefined;
  const end = await engine.generate(prompt, params, (piece) => ((text += piece), true), signal, { onPrefill: (count) => (prefill = count) });
  return { text, end, prefill: prefill! };
}

/** The last position's logits for `ids`, in one pass with an empty KV cache. */
async function referenceNextLogits(ids: number[]): Promise<Float32Array> {
  const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);
  const feeds: Record<string, ort.Tensor> = { input_ids: int64(ids), attention_mask: int64(ids.map(() => 1)), position_ids: int64(ids.map((_, i) => i)) };
  for (let l = 0; l < config.numLayers; l++) {
    for (const kind of ['key', 'value']) feeds[`past_key_values.${l}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, config.numHeads, 0, config.headDim]);
  }
  const logits = (await session.run(feeds)).logits!.data as Float32Array;
  return logits.slice((ids.length - 1) * V);
}

/** Greedy decoding with a repetition penalty over `penalised(prompt, generated)`. */
async function referencePenalisedGreedy(promptIds: number[], steps: number, penalty: number, penalised: (prompt: number[], generated: number[]) => number[]) {
  const generated: number[] = [];
  for (let s = 0; s < steps; s++) {
    const row = await referenceNextLogits([...promptIds, ...generated]);
    for (const token of new Set(penalised(promptIds, generated))) row[token] = row[token]! > 0 ? row[token]! / penalty : row[token]! * penalty;
    let best = 0;
    for (let i = 1; i < V; i++) if (row[i]! > row[best]!) best = i;
    generated.push(best);
  }
  return generated;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phi-kv-'));
  await writeTestModel(join(dir, 'phi-tiny'), model);
  server = createServer(async (request, response) => {
    const file = normalize(join(dir, decodeURIComponent(new URL(request.url!, 'http://x').pathname)));
    const size = await stat(file).then((s) => (s.isFile() ? s.size : -1), () => -1);
    if (!file.startsWith(dir) || size < 0) return response.writeHead(404).end();
    response.writeHead(200, { 'Content-Length': size });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  source = { id: `http://127.0.0.1:${(server.address() as AddressInfo).port}/phi-tiny/`, dtype: 'fp32', file: 'model', externalData: false };
  env.cacheDir = join(dir, 'cache');
  session = await ort.InferenceSession.create(model.files.get('onnx/model.onnx')!);
});

afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.unload()));
  await session?.release();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('KV-cache reuse', () => {
  it('prefills only what follows the cached prefix, and writes the same reply as a full prefill', async () => {
    const reuse = await loaded();
    const fresh = await loaded({ kvReuse: false });
    const first = `${PREAMBLE}Human: can I get a refund?\nChatbot:`;
    const firstReply = await run(reuse, first);
    expect(firstReply).toEqual(await run(fresh, first));
    expect(firstReply.prefill).toEqual({ cached: 0, computed: tokenizer.encode(first).length });

    const second = `${PREAMBLE}Human: can I get a refund?\nChatbot: ${firstReply.text.trim()}\nHuman: and a new battery?\nChatbot:`;
    const secondReply = await run(reuse, second);
    const full = await run(fresh, second);
    expect(secondReply.text).toBe(full.text);
    expect(secondReply.end).toBe(full.end);
    expect(full.prefill).toEqual({ cached: 0, computed: tokenizer.encode(second).length });
    // Everything up to where the two prompts' token ids part is taken from the cache.
    expect(secondReply.prefill.cached).toBeGreaterThanOrEqual(tokenizer.encode(first).length - 1);
    expect(secondReply.prefill.cached + secondReply.prefill.computed).toBe(tokenizer.encode(second).length);
  });

  it('samples the same reply with and without reuse for the same seed', async () => {
    const seeded = (kvReuse: boolean) => loaded({ kvReuse, random: seededRandom(7) });
    const [reuse, fresh] = [await seeded(true), await seeded(false)];
    const sampling = { ...GREEDY, temperature: 0.8, topK: 40, topP: 0.9 };
    for (const prompt of [`${PREAMBLE}Human: a joke please\nChatbot:`, `${PREAMBLE}Human: a joke please\nChatbot: ok\nHuman: another\nChatbot:`]) {
      expect((await run(reuse, prompt, sampling)).text).toBe((await run(fresh, prompt, sampling)).text);
    }
  });

  it('never reuses what a stopped, regenerated, edited or other conversation left behind', async () => {
    const reuse = await loaded();
    const fresh = await loaded({ kvReuse: false });
    const prompt = (message: string) => `${PREAMBLE}Human: ${message}\nChatbot:`;
    const check = async (text: string) => {
      const got = await run(reuse, text);
      const want = await run(fresh, text);
      expect(got.text, text).toBe(want.text);
      expect(got.end, text).toBe(want.end);
      return got.prefill;
    };

    // Stop: the cache holds the prompt and the tokens generated before Stop; the next prompt reuses
    // only the part of that which it shares.
    const controller = new AbortController();
    let pieces = 0;
    await reuse.generate(prompt('where is my order?'), { ...GREEDY, maxNewTokens: 200 }, () => (++pieces === 3 && controller.abort(), true), controller.signal);
    await check(prompt('where is my order?'));
    // Regenerate: the same prompt again, from the cache, to the same reply.
    const again = await check(prompt('where is my order?'));
    expect(again).toEqual({ cached: tokenizer.encode(prompt('where is my order?')).length - 1, computed: 1 });
    // Edit and resend: the changed message is recomputed from the first token that differs.
    const edited = await check(prompt('where is my invoice?'));
    const ids = (text: string) => tokenizer.encode(text);
    expect(edited.cached).toBe(commonPrefixLength(ids(prompt('where is my order?')), ids(prompt('where is my invoice?'))));
    expect(edited.cached).toBeLessThan(ids(prompt('where is my invoice?')).length - 2);
    // Another conversation: nothing in common but the template's first words.
    const other = await check('You are a chatbot. Human: hello there\nChatbot:');
    expect(other.cached).toBe(commonPrefixLength(ids(prompt('where is my invoice?')), ids('You are a chatbot. Human: hello there\nChatbot:')));
    // A reload starts with no cache at all.
    await reuse.unload();
    await reuse.load(source, () => {});
    expect(await check(prompt('where is my invoice?'))).toEqual({ cached: 0, computed: tokenizer.encode(prompt('where is my invoice?')).length });
  });

  it('keeps the classification cache apart from the reply cache', async () => {
    const reuse = await loaded();
    const reply = `${PREAMBLE}Human: hello\nChatbot:`;
    await run(reuse, reply);
    const counts: PrefillCount[] = [];
    const onPrefill = (count: PrefillCount) => counts.push(count);
    await reuse.scoreContinuations('Classify this message.\nMessage: hello\nOutput: The category is', [' support'], { onPrefill });
    await reuse.scoreContinuations('Classify this message.\nMessage: refund\nOutput: The category is', [' support'], { onPrefill });
    expect(counts[0]!.cached).toBe(0);
    expect(counts[1]!.cached).toBeGreaterThanOrEqual(tokenizer.encode('Classify this message.\nMessage:').length - 1);
    // Classifying did not evict the reply's cache.
    expect((await run(reuse, reply)).prefill).toEqual({ cached: tokenizer.encode(reply).length - 1, computed: 1 });
  });

  it('penalises repetition of generated tokens only, as WebLLM does', async () => {
    const engine = await loaded();
    const promptText = `${PREAMBLE}Human: refund refund refund price price\nChatbot:`;
    const promptIds = tokenizer.encode(promptText);
    const params = { ...GREEDY, maxNewTokens: 16, repetitionPenalty: 3 };
    const generatedOnly = await referencePenalisedGreedy(promptIds, params.maxNewTokens, params.repetitionPenalty, (_, generated) => generated);
    const withPrompt = await referencePenalisedGreedy(promptIds, params.maxNewTokens, params.repetitionPenalty, (prompt, generated) => [...prompt, ...generated]);
    // The two readings of the setting disagree here, so the test tells them apart.
    expect(generatedOnly).not.toEqual(withPrompt);
    expect((await run(engine, promptText, params)).text).toBe(tokenizer.decode(generatedOnly, { skip_special_tokens: true }));
  });

  it('runs a prompt longer than a prefill chunk in chunks, and writes what one pass over it would', async () => {
    const engine = await loaded({ kvReuse: false });
    const passes: number[] = [];
    const model = (engine as unknown as { model: { forward: (inputs: { input_ids: { dims: number[] } }) => Promise<unknown> } }).model;
    const forward = model.forward.bind(model);
    model.forward = (inputs) => (passes.push(inputs.input_ids.dims[1]!), forward(inputs));
    const promptText = `${PREAMBLE.repeat(12)}Human: can I get a refund?\nChatbot:`;
    const promptIds = tokenizer.encode(promptText);
    expect(promptIds.length).toBeGreaterThan(2 * PREFILL_CHUNK);
    const params = { ...GREEDY, maxNewTokens: 8 };
    const reply = await run(engine, promptText, params);
    // The prompt went through in passes of at most a chunk, then one pass per token.
    const prefill = passes.slice(0, Math.ceil(promptIds.length / PREFILL_CHUNK));
    expect(prefill.every((n) => n <= PREFILL_CHUNK)).toBe(true);
    expect(prefill.reduce((a, b) => a + b, 0)).toBe(promptIds.length);
    expect(reply.prefill).toEqual({ cached: 0, computed: promptIds.length });
    const reference = await referencePenalisedGreedy(promptIds, params.maxNewTokens, params.repetitionPenalty, (_, generated) => generated);
    expect(reply.text).toBe(tokenizer.decode(reference, { skip_special_tokens: true }));
  });

  it('runs, from turn 2 on, only the previous turn, the new message and the instructions through the model, whatever the history', async () => {
    const reuse = await scriptedConversation(await loaded({ random: () => 0.5 }), { turns: 12 });
    const full = await scriptedConversation(await loaded({ kvReuse: false, random: () => 0.5 }), { turns: 12 });
    // The same conversation either way: reuse changes what is computed, not what is written.
    expect(reuse.map((t) => t.text)).toEqual(full.map((t) => t.text));
    // The history did fill the window: some turns had to fold old ones into the summary.
    const folds = reuse.filter((t) => t.folded).length;
    expect(folds).toBeGreaterThan(0);
    expect(folds).toBeLessThanOrEqual(4);
    for (const [k, turn] of reuse.entries()) {
      expect(turn.reply.cached + turn.reply.computed).toBe(turn.promptTokens);
      expect(full[k]!.reply).toEqual({ cached: 0, computed: turn.promptTokens });
      if (k === 0) continue;
      if (!turn.folded) expect(turn.reply.computed, `turn ${k + 1}`).toBeLessThanOrEqual(turn.bound);
      // Classification reads the fixed preamble from its cache and computes only this message.
      expect(turn.classify.computed, `turn ${k + 1}`).toBeLessThanOrEqual(tokenizer.encode(`Message: ${turn.message}\nOutput: The category is`).length + 2);
    }
    // Without reuse the reply's prefill grows with the history; with it, it does not.
    const late = reuse.slice(1).filter((t) => !t.folded);
    expect(Math.max(...late.map((t) => t.reply.computed))).toBeLessThan(Math.max(...full.map((t) => t.reply.computed)) / 2);
  }, 300_000);
});
