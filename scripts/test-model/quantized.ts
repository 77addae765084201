

// Parameters of the phi-2 shapes, quantized the way the default hosted export
// (BricksDisplay/phi-2-q4, `onnx/decoder_model_merged_quantized.onnx`) was. transformers.js's
// conversion script of that time (scripts/convert.py, early 2024) ran onnxruntime's
// `quantize_dynamic` on Optimum's merged decoder with, for `phi`: weight_type QInt8, per_channel
// and reduce_range off, every op of IntegerOpsRegistry, EnableSubgraph (to reach into the `If`
// branches) and MatMulConstBOnly (quantize_dynamic's default). That produces, per weight:
//   MatMul(x, W)  ->  DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W_q int8, x_zp, W_zp = 0)
//                     -> Cast(float) -> Mul(·, x_scale * W_scale)
// (onnxruntime fuses that chain into MatMulIntegerToFloat when it loads the model), and for the
// embedding table, which GatherQuant quantizes as an activation (uint8, with a zero point):
//   Gather(E, ids)  ->  Gather(E_q uint8, ids) -> DequantizeLinear(·, E_scale, E_zp)
// Attention's activation-by-activation MatMuls stay float.

import { DataType, type Tensor } from './onnx.js';
import type { GraphBuilder, PhiParameters } from './phi-graph.js';
import { prng } from './weights.js';

/** A quantized weight as it is stored: its integers, and the scale that turns them back into floats. */
export interface QuantizedWeight {
  data: Int8Array | Uint8Array;
  scale: number;
  zeroPoint: number;
}

/** FNV-1a: each tensor's random stream depends only on the seed and its name, not on the order it is made in. */
function nameSeed(seed: number, name: string): number {
  let hash = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * int8 weights crowded around zero, as a real weight's are (its rare largest value is what maps to
 * ±127): a triangular distribution over [-63, 63], standard deviation 26. Spread over the whole
 * range instead, onnxruntime's u8 x s8 kernels on CPUs without VNNI (whose pairwise int16 sums
 * saturate) would compute something a real model's weights never make them compute.
 */
function randomInt8(n: number, next: () => number): Int8Array {
  const out = new Int8Array(n);
  for (let i = 0; i < n; i += 2) {
    const bits = (next() * 4294967296) >>> 0;
    out[i] = ((bits & 0xff) + ((bits >>> 8) & 0xff) - 255) / SPREAD;
    if (i + 1 < n) out[i + 1] = (((bits >>> 16) & 0xff) + (bits >>> 24) - 255) / SPREAD;
  }
  return out;
}

const SPREAD = 4;
// The standard deviation of the sum of two centred bytes, divided by SPREAD.
const INT8_STD = Math.sqrt((256 * 256 - 1) / 6) / SPREAD;

/**
 * Seeded int8 weights with the same scales as the tiny model's float ones (1/sqrt(fan_in), the
 * branch outputs halved), so activations keep unit size through phi-2's 32 layers.
 */
export function int8Weight(seed: number, name: string, inDim: number, outDim: number): QuantizedWeight {
  const branchOutput = /\.(dense|fc2)\.weight$/.test(name);
  const std = (branchOutput ? 0.5 : 1) / Math.sqrt(inDim);
  return { data: randomInt8(inDim * outDim, prng(nameSeed(seed, name))), scale: std / INT8_STD, zeroPoint: 0 };
}

/** The embedding table as GatherQuant stores it: uint8 around a zero point of 128, unit-size rows. */
export function uint8Embedding(seed: number, name: string, vocab: number, hidden: number): QuantizedWeight {
  const signed = randomInt8(vocab * hidden, prng(nameSeed(seed, name)));
  const data = new Uint8Array(signed.buffer, signed.byteOffset, signed.length);
  for (let i = 0; i < data.length; i++) data[i] = signed[i]! + 128;
  return { data, scale: 1 / INT8_STD, zeroPoint: 128 };
}

const scalarTensor = (name: string, dataType: DataType, bytes: Uint8Array): Tensor => ({ name, dataType, dims: [], raw: bytes });
const floatScalar = (name: string, value: number) => scalarTensor(name, DataType.FLOAT, new Uint8Array(Float32Array.of(value).buffer));

/** Adds a quantized weight's three initializers (onnxruntime's `_quantized`, `_scale`, `_zero_point` names). */
function addQuantized(g: GraphBuilder, name: string, dims: number[], make: () => QuantizedWeight): { q: string; scale: string; zeroPoint: string } {
  const names = { q: `${name}_quantized`, scale: `${name}_scale`, zeroPoint: `${name}_zero_point` };
  if (g.has(names.q)) return names;
  let weight: QuantizedWeight | undefined = make();
  const dataType = weight.data instanceof Int8Array ? DataType.INT8 : DataType.UINT8;
  const zeroPoint = weight.data instanceof Int8Array ? Int8Array.of(weight.zeroPoint) : Uint8Array.of(weight.zeroPoint);
  const { scale } = weight;
  g.initializer(names.q, () => {
    const { data } = weight!;
    // Dropped as soon as it is handed over, so the sink's copy on disk is the only one.
    weight = undefined;
    return { name: names.q, dataType, dims, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  });
  g.initializer(names.scale, () => floatScalar(names.scale, scale));
  g.initializer(names.zeroPoint, () => scalarTensor(names.zeroPoint, dataType, new Uint8Array(zeroPoint.buffer)));
  return names;
}

export interface QuantizedParameterOptions {
  seed: number;
  /** Logit offsets for the vocabulary, `lm_head.bias`. */
  lmBias: Float32Array;
  /** Float vectors by name: LayerNorm scales and shifts, biases. */
  vector: (name: string, length: number) => Float32Array;
}

export function quantizedParameters({ seed, lmBias, vector }: QuantizedParameterOptions): PhiParameters {
  // One DynamicQuantizeLinear per activation, shared by every MatMul that reads it (q, k, v and
  // fc1 all read the LayerNorm's output), as onnxruntime's quantizer does. Node outputs are unique
  // across both branches, so one map serves the whole graph.
  const quantizedActivations = new Map<string, [string, string, string]>();
  const quantizeActivation = (g: GraphBuilder, input: string) => {
    let quantized = quantizedActivations.get(input);
    if (!quantized) {
      quantized = g.opN('DynamicQuantizeLinear', [input], 3) as [string, string, string];
      quantizedActivations.set(input, quantized);
    }
    return quantized;
  };
  return {
    vector: (name, length) => (name === 'lm_head.bias' ? lmBias : vector(name, length)),
    matMul: (g, input, name, inDim, outDim) => {
      const [xq, xScale, xZeroPoint] = quantizeActivation(g, input);
      const w = addQuantized(g, name, [inDim, outDim], () => int8Weight(seed, name, inDim, outDim));
      const product = g.op('MatMulInteger', [xq, w.q, xZeroPoint, w.zeroPoint]);
      const asFloat = g.op('Cast', [product], { to: { kind: 'int', value: DataType.FLOAT } });
      return g.op('Mul', [asFloat, g.op('Mul', [xScale, w.scale])]);
    },
    embed: (g, name, ids, vocab, hidden) => {
      const e = addQuantized(g, name, [vocab, hidden], () => uint8Embedding(seed, name, vocab, hidden));
      const rows = g.op('Gather', [e.q, ids], { axis: { kind: 'int', value: 0 } });
      return g.op('DequantizeLinear', [rows, e.scale, e.zeroPoint]);
    },
  };
}

/** A float vector seeded by its name: LayerNorm scales near 1, shifts and biases near 0. */
export function seededVector(seed: number, name: string, length: number): Float32Array {
  const next = prng(nameSeed(seed, name));
  const mean = /ln\.weight$/.test(name) ? 1 : 0;
  const std = /ln\.weight$/.test(name) ? 0.05 : 0.02;
  const a = std * Math.sqrt(3);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = mean + (2 * next() - 1) * a;
  return out;
}
