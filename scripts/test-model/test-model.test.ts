import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, type Tensor as HfTensor } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestModel, DEFAULT_SEED, writeTestModel } from './build.js';
import { forward, greedy } from './reference.js';
import { symbolBytes } from './tokenizer.js';

const model = buildTestModel();
const { config, weights, rope, vocab } = model;
const V = config.vocabSize;

// A fixed chat-like prompt as token ids, so these checks do not depend on the tokenizer.
const PROMPT = [72, 514, 33, 344, 368, 332, 272, 317, 262, 436, 63, 319, 348, 333, 46, 32, 300, 44];

interface OrtResult {
  logits: Float32Array;
  present: Record<string, ort.Tensor>;
}

const int64 = (rows: number[][]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

let session: ort.InferenceSession;

async function runOrt(ids: number[][], mask: number[][], positions: number[][], past?: Record<string, ort.Tensor>): Promise<OrtResult> {
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids),
    attention_mask: int64(mask),
    position_ids: int64(positions),
  };
  for (let l = 0; l < config.numLayers; l++) {
    for (const kind of ['key', 'value']) {
      const name = `past_key_values.${l}.${kind}`;
      feeds[name] = past?.[name] ?? new ort.Tensor('float32', new Float32Array(0), [ids.length, config.numHeads, 0, config.headDim]);
    }
  }
  const out = await session.run(feeds);
  const present: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(out)) {
    if (name.startsWith('present.')) present[name.replace('present.', 'past_key_values.')] = t;
  }
  return { logits: out.logits!.data as Float32Array, present };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const ones = (n: number) => new Array<number>(n).fill(1);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

beforeAll(async () => {
  session = await ort.InferenceSession.create(model.files.get('onnx/model.onnx')!);
});

describe('generated files', () => {
  it('are byte-identical for the same seed and differ for another', () => {
    const again = buildTestModel(DEFAULT_SEED);
    for (const [path, bytes] of model.files) expect(Buffer.compare(again.files.get(path)!, bytes), path).toBe(0);
    const other = buildTestModel(DEFAULT_SEED + 1);
    expect(Buffer.compare(other.files.get('onnx/model.onnx')!, model.files.get('onnx/model.onnx')!)).not.toBe(0);
  });

  it('keep the vocabulary in the intended size range', () => {
    expect(V).toBeGreaterThanOrEqual(500);
    expect(V).toBeLessThanOrEqual(1000);
    expect(vocab.tokens[vocab.eosId]).toBe('<|endoftext|>');
  });
});

describe('onnx graph vs reference implementation', () => {
  it('matches on a prompt with an empty cache', async () => {
    const ort = await runOrt([PROMPT], [ones(PROMPT.length)], [range(0, PROMPT.length)]);
    const ref = forward(config, weights, rope, {
      inputIds: [PROMPT],
      attentionMask: [ones(PROMPT.length)],
      positionIds: [range(0, PROMPT.length)],
    });
    expect(maxAbsDiff(ort.logits, ref.logits)).toBeLessThan(1e-4);
  });

  it('matches when the last tokens are fed through the KV cache', async () => {
    const k = 4;
    const split = PROMPT.length - k;
    const first = await runOrt([PROMPT.slice(0, split)], [ones(split)], [range(0, split)]);
    const second = await runOrt([PROMPT.slice(split)], [ones(PROMPT.length)], [range(split, PROMPT.length)], first.present);
    expect(second.present['past_key_values.0.key']!.dims).toEqual([1, config.numHeads, PROMPT.length, config.headDim]);

    const ref = forward(config, weights, rope, {
      inputIds: [PROMPT],
      attentionMask: [ones(PROMPT.length)],
      positionIds: [range(0, PROMPT.length)],
    });
    expect(maxAbsDiff(second.logits, ref.logits.subarray(split * V))).toBeLessThan(1e-4);
  });

  it('handles a left-padded batch like the unpadded sequences', async () => {
    const short = PROMPT.slice(0, 11);
    const pad = PROMPT.length - short.length;
    const ids = [[...new Array<number>(pad).fill(vocab.eosId), ...short], PROMPT];
    const mask = [[...new Array<number>(pad).fill(0), ...ones(short.length)], ones(PROMPT.length)];
    // transformers.js: cumsum(mask) - 1, with padding positions set to 1.
    const positions = [[...new Array<number>(pad).fill(1), ...range(0, short.length)], range(0, PROMPT.length)];
    const batched = await runOrt(ids, mask, positions);
    const ref = forward(config, weights, rope, { inputIds: ids, attentionMask: mask, positionIds: positions });
    expect(maxAbsDiff(batched.logits, ref.logits)).toBeLessThan(1e-4);

    const alone = await runOrt([short], [ones(short.length)], [range(0, short.length)]);
    expect(maxAbsDiff(batched.logits.subarray(pad * V, PROMPT.length * V), alone.logits)).toBeLessThan(1e-4);
  });

  it('produces logits that depend on the input', async () => {
    const a = await runOrt([PROMPT.slice(0, 6)], [ones(6)], [range(0, 6)]);
    const b = await runOrt([PROMPT.slice(6, 12)], [ones(6)], [range(0, 6)]);
    expect(maxAbsDiff(a.logits.subarray(5 * V), b.logits.subarray(5 * V))).toBeGreaterThan(1);
  });

  it('gives reply-ending tokens negligible probability', () => {
    const ref = forward(config, weights, rope, {
      inputIds: [PROMPT],
      attentionMask: [ones(PROMPT.length)],
      positionIds: [range(0, PROMPT.length)],
    });
    const enders = vocab.tokens.flatMap((symbol, id) => {
      if (id === vocab.eosId) return [id];
      const text = String.fromCharCode(...symbolBytes(symbol));
      return text.includes('\n') || text.includes(':') ? [id] : [];
    });
    for (let s = 0; s < PROMPT.length; s++) {
      const row = ref.logits.subarray(s * V, (s + 1) * V);
      const max = Math.max(...row);
      let total = 0;
      for (const x of row) total += Math.exp(x - max);
      const ending = enders.reduce((sum, id) => sum + Math.exp(row[id]! - max), 0);
      expect(ending / total).toBeLessThan(1e-4);
    }
  });
});

describe('transformers.js', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'phi-tiny-'));
    await writeTestModel(join(dir, 'phi-tiny'), model);
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    env.localModelPath = `${dir}/`;
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('tokenizes common words whole and round-trips arbitrary text', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained('phi-tiny');
    for (const word of [' support', ' sales', ' joke']) {
      expect(tokenizer.encode(word), word).toHaveLength(1);
    }
    expect(tokenizer.encode('<|endoftext|>')).toEqual([vocab.eosId]);
    for (const text of ['héllo 👋', 'Hello! How can I help you today?', 'tabs\tand\nnewlines  here']) {
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    }
  });

  it('writes the chat variant with ChatML special tokens and a chat template, the same for the same seed', async () => {
    const chat = buildTestModel(DEFAULT_SEED, { chat: true });
    const again = buildTestModel(DEFAULT_SEED, { chat: true });
    for (const [path, bytes] of chat.files) expect(Buffer.compare(again.files.get(path)!, bytes), path).toBe(0);
    await writeTestModel(join(dir, 'chat-tiny'), chat);
    const tokenizer = await AutoTokenizer.from_pretrained('chat-tiny');
    const { imStartId, imEndId } = chat.vocab.chat!;
    expect(tokenizer.encode('<|im_start|>user\nhi<|im_end|>', { add_special_tokens: false })).toEqual([imStartId, ...tokenizer.encode('user\nhi'), imEndId]);
    expect(tokenizer.eos_token_id).toBe(imEndId);
    expect(tokenizer.apply_chat_template([{ role: 'user', content: 'hi' }], { tokenize: false, add_generation_prompt: true })).toBe(
      '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
    );
    const generation = JSON.parse(new TextDecoder().decode(chat.files.get('generation_config.json')!));
    expect(generation.eos_token_id).toEqual([imEndId, chat.vocab.eosId]);
    // The plain model is not changed by the variant: phi-tiny stays the model CI has always used.
    expect(model.vocab.chat).toBeUndefined();
  });

  it('generates exactly what greedy decoding with the reference produces', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained('phi-tiny');
    const lm = await AutoModelForCausalLM.from_pretrained('phi-tiny', { dtype: 'fp32' });
    try {
      const inputs = tokenizer('Hello! Can you tell me a joke about sales?');
      const output = (await lm.generate({ ...inputs, max_new_tokens: 20, do_sample: false })) as HfTensor;
      const promptIds = (inputs.input_ids as HfTensor).tolist()[0].map(Number) as number[];
      const generated = (output.tolist()[0] as bigint[]).map(Number).slice(promptIds.length);
      expect(generated).toHaveLength(20);
      expect(generated).toEqual(greedy(config, weights, rope, promptIds, 20));

      // Batched generation needs left padding; each row must still decode as if alone.
      tokenizer.padding_side = 'left';
      const texts = ['Hi', 'Hello! Can you tell me a joke about sales?'];
      const batch = tokenizer(texts, { padding: true });
      const batchOutput = (await lm.generate({ ...batch, max_new_tokens: 20, do_sample: false })) as HfTensor;
      const rows = (batchOutput.tolist() as bigint[][]).map((row) => row.map(Number).slice(-20));
      texts.forEach((text, i) => {
        expect(rows[i]).toEqual(greedy(config, weights, rope, tokenizer.encode(text), 20));
      });
    } finally {
      await lm.dispose();
    }
  });
});
