import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from './build.js';
import { DataType, type Graph, type Node } from './onnx.js';
import { int8Weight, seededVector, uint8Embedding } from './quantized.js';
import { forward } from './reference.js';
import { DATA_FILE, ONNX_FILE, paddedTokenBias, shapeConfig, writeShapedModel, type ShapedModelSummary } from './shaped.js';
import { trainVocabulary } from './tokenizer.js';
import { ropeTables, type LayerWeights, type PhiConfig, type PhiWeights } from './weights.js';

// phi-2's layout at the tiny model's width, so onnxruntime and the reference run in milliseconds.
const config: PhiConfig = shapeConfig('phi-2-tiny');
const V = config.vocabSize;
const PROMPT = [72, 514, 33, 344, 368, 332, 272, 317, 262, 436, 63, 319];

let dir: string;
let summary: ShapedModelSummary;
let session: ort.InferenceSession;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phi-shaped-'));
  summary = writeShapedModel(dir, config, DEFAULT_SEED);
  session = await ort.InferenceSession.create(join(dir, ONNX_FILE));
});

afterAll(async () => {
  await session?.release();
  await rm(dir, { recursive: true, force: true });
});

/** The float weights the int8 ones stand for, for the reference implementation. */
function dequantizedWeights(): PhiWeights {
  const { hiddenSize: h, intermediateSize: m } = config;
  const seed = DEFAULT_SEED;
  const matrix = (name: string, inDim: number, outDim: number) => {
    const w = int8Weight(seed, name, inDim, outDim);
    return Float32Array.from(w.data, (q) => (q - w.zeroPoint) * w.scale);
  };
  const vector = (name: string, n: number) => seededVector(seed, name, n);
  const embedding = uint8Embedding(seed, 'embed_tokens', V, h);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    const p = `layers.${l}`;
    layers.push({
      lnGamma: vector(`${p}.ln.weight`, h),
      lnBeta: vector(`${p}.ln.bias`, h),
      wq: matrix(`${p}.q_proj.weight`, h, h),
      bq: vector(`${p}.q_proj.bias`, h),
      wk: matrix(`${p}.k_proj.weight`, h, h),
      bk: vector(`${p}.k_proj.bias`, h),
      wv: matrix(`${p}.v_proj.weight`, h, h),
      bv: vector(`${p}.v_proj.bias`, h),
      wDense: matrix(`${p}.dense.weight`, h, h),
      bDense: vector(`${p}.dense.bias`, h),
      wFc1: matrix(`${p}.fc1.weight`, h, m),
      bFc1: vector(`${p}.fc1.bias`, m),
      wFc2: matrix(`${p}.fc2.weight`, m, h),
      bFc2: vector(`${p}.fc2.bias`, h),
    });
  }
  return {
    embed: Float32Array.from(embedding.data, (q) => (q - embedding.zeroPoint) * embedding.scale),
    layers,
    finalGamma: vector('final_ln.weight', h),
    finalBeta: vector('final_ln.bias', h),
    lmHead: matrix('lm_head.weight', h, V),
    lmBias: paddedTokenBias(trainVocabulary(), V),
  };
}

const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

async function run(ids: number[], pastLength: number, past?: Record<string, ort.Tensor>) {
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids),
    attention_mask: int64(new Array<number>(pastLength + ids.length).fill(1)),
    position_ids: int64(range(pastLength, pastLength + ids.length)),
    use_cache_branch: new ort.Tensor('bool', [past !== undefined], [1]),
  };
  for (let l = 0; l < config.numLayers; l++) {
    for (const kind of ['key', 'value']) {
      const name = `past_key_values.${l}.${kind}`;
      feeds[name] = past?.[name] ?? new ort.Tensor('float32', new Float32Array(0), [1, config.numHeads, 0, config.headDim]);
    }
  }
  const out = await session.run(feeds);
  const present = Object.fromEntries(
    Object.entries(out)
      .filter(([name]) => name.startsWith('present.'))
      .map(([name, tensor]) => [name.replace('present.', 'past_key_values.'), tensor]),
  );
  return { logits: out.logits!.data as Float32Array, present };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const argmaxRow = (logits: Float32Array, row: number) => {
  let best = 0;
  for (let i = 1; i < V; i++) if (logits[row * V + i]! > logits[row * V + best]!) best = i;
  return best;
};

const branches = (graph: Graph) => {
  const ifNode = graph.nodes[0]!;
  const branch = (name: string) => {
    const attr = ifNode.attributes?.[name];
    if (attr?.kind !== 'graph') throw new Error(`If without ${name}`);
    return attr.value.nodes;
  };
  return { ifNode, withPast: branch('then_branch'), noPast: branch('else_branch') };
};
const count = (nodes: Node[], opType: string) => nodes.filter((n) => n.opType === opType).length;

describe('external data', () => {
  it('holds every tensor of 1 KiB or more, back to back, in the file the graph names', async () => {
    const external = summary.graph.initializers.flatMap((t) => ('external' in t ? [t.external] : []));
    const inline = summary.graph.initializers.filter((t) => 'raw' in t);
    expect(inline.every((t) => 'raw' in t && t.raw.length < 1024)).toBe(true);
    let end = 0;
    for (const { location, offset, length } of external) {
      expect(location).toBe('decoder_model_merged_quantized.onnx_data');
      expect(offset).toBe(end);
      end = offset + length;
    }
    expect(end).toBe(summary.dataBytes);
    expect((await stat(join(dir, DATA_FILE))).size).toBe(end);
  });

  it('stores each weight at its offset', async () => {
    const data = await readFile(join(dir, DATA_FILE));
    const name = 'layers.1.fc1.weight_quantized';
    const tensor = summary.graph.initializers.find((t) => t.name === name)!;
    if (!('external' in tensor)) throw new Error(`${name} is inline`);
    const { offset, length } = tensor.external;
    const expected = int8Weight(DEFAULT_SEED, 'layers.1.fc1.weight', config.hiddenSize, config.intermediateSize).data;
    expect(length).toBe(expected.length);
    expect(Buffer.compare(data.subarray(offset, offset + length), Buffer.from(expected.buffer))).toBe(0);
  });
});

describe('quantization, as onnxruntime quantize_dynamic writes it', () => {
  it('is a merged decoder: one If on use_cache_branch over the two decoders', () => {
    const { ifNode } = branches(summary.graph);
    expect(summary.graph.nodes).toHaveLength(1);
    expect(ifNode.opType).toBe('If');
    expect(ifNode.inputs).toEqual(['use_cache_branch']);
    expect(summary.graph.inputs.at(-1)).toEqual({ name: 'use_cache_branch', elemType: DataType.BOOL, shape: [1] });
  });

  it('runs every weight MatMul as DynamicQuantizeLinear + MatMulInteger + Cast + Mul, the embedding as Gather + DequantizeLinear', () => {
    const L = config.numLayers;
    for (const nodes of Object.values(branches(summary.graph)).slice(1) as Node[][]) {
      // q, k, v, dense, fc1, fc2 per layer, and lm_head.
      expect(count(nodes, 'MatMulInteger')).toBe(6 * L + 1);
      // The LayerNorm output (shared by q, k, v, fc1), the attention context, the GELU, the final LayerNorm.
      expect(count(nodes, 'DynamicQuantizeLinear')).toBe(3 * L + 1);
      // Only attention's activation-by-activation products stay float.
      expect(count(nodes, 'MatMul')).toBe(2 * L);
      expect(nodes.filter((n) => n.opType === 'MatMul').every((n) => !n.inputs.some((i) => i.endsWith('.weight')))).toBe(true);
      const gather = nodes.find((n) => n.opType === 'Gather' && n.inputs[1] === 'input_ids')!;
      expect(gather.inputs[0]).toBe('embed_tokens_quantized');
      expect(nodes.find((n) => n.inputs[0] === gather.outputs[0])!.opType).toBe('DequantizeLinear');
    }
    const types = new Map(summary.graph.initializers.map((t) => [t.name, t.dataType]));
    expect(types.get('layers.0.q_proj.weight_quantized')).toBe(DataType.INT8);
    expect(types.get('lm_head.weight_quantized')).toBe(DataType.INT8);
    expect(types.get('embed_tokens_quantized')).toBe(DataType.UINT8);
    expect([...types.keys()].some((name) => name.endsWith('.weight') && !name.includes('ln'))).toBe(false);
  });
});

describe('onnxruntime on the generated file vs the float reference of the same weights', () => {
  const weights = dequantizedWeights();
  const rope = ropeTables(config);
  const reference = () =>
    forward(config, weights, rope, { inputIds: [PROMPT], attentionMask: [new Array<number>(PROMPT.length).fill(1)], positionIds: [range(0, PROMPT.length)] });

  // What remains is the activations' dynamic quantization to uint8 (about 0.03 here); a wrong
  // scale, offset or saturating kernel shows as 0.5 or more.
  const TOLERANCE = 0.1;

  it('agrees without a cache (the else branch)', async () => {
    const { logits } = await run(PROMPT, 0);
    const ref = reference().logits;
    expect(maxAbsDiff(logits, ref)).toBeLessThan(TOLERANCE);
    expect(argmaxRow(logits, PROMPT.length - 1)).toBe(argmaxRow(ref, PROMPT.length - 1));
  });

  it('agrees when the last tokens go through the KV cache (the then branch)', async () => {
    const split = PROMPT.length - 3;
    const first = await run(PROMPT.slice(0, split), 0);
    const second = await run(PROMPT.slice(split), split, first.present);
    expect(second.present['past_key_values.1.value']!.dims).toEqual([1, config.numHeads, PROMPT.length, config.headDim]);
    expect(maxAbsDiff(second.logits, reference().logits.subarray(split * V))).toBeLessThan(TOLERANCE);
  });

  it('produces logits that depend on the input', async () => {
    const a = await run(PROMPT.slice(0, 6), 0);
    const b = await run(PROMPT.slice(6, 12), 0);
    expect(maxAbsDiff(a.logits.subarray(5 * V), b.logits.subarray(5 * V))).toBeGreaterThan(1);
  });
});
