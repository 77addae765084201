// The phi decoder as an ONNX graph with the input/output contract of Optimum's
// text-generation-with-past exports, which is what transformers.js drives.

import { DataType, float32Tensor, int64Tensor, type Attribute, type Graph, type Node, type Tensor, type ValueInfo } from './onnx.js';
import type { LayerWeights, PhiConfig, PhiWeights, RopeTables } from './weights.js';

// Must match reference.ts: finite, so fully masked (padding) rows stay NaN-free.
const MASKED = -1e9;

/**
 * Receives every initializer as it is made; the big shapes write its bytes to disk there and keep
 * only where they went, so no weight stays in memory once written.
 */
export type InitializerSink = (tensor: Tensor) => Tensor;

export class GraphBuilder {
  nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(private readonly sink: InitializerSink = (tensor) => tensor) {}

  op(opType: string, inputs: string[], attributes?: Record<string, Attribute>, output?: string): string {
    return this.opN(opType, inputs, 1, attributes, output ? [output] : undefined)[0]!;
  }

  opN(opType: string, inputs: string[], count: number, attributes?: Record<string, Attribute>, outputs?: string[]): string[] {
    const name = `${opType}_${this.counter++}`;
    const outs = outputs ?? Array.from({ length: count }, (_, i) => `${name}_out${i}`);
    this.nodes.push({ opType, name, inputs, outputs: outs, attributes });
    return outs;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /**
   * Adds the initializer `name` unless the graph has it already: both branches of a merged
   * decoder read the same weights, which are made (and written) once.
   */
  initializer(name: string, make: () => Tensor): string {
    if (!this.names.has(name)) {
      this.names.add(name);
      this.initializers.push(this.sink(make()));
    }
    return name;
  }

  floats(name: string, dims: number[], data: Float32Array | (() => Float32Array)): string {
    return this.initializer(name, () => float32Tensor(name, dims, typeof data === 'function' ? data() : data));
  }

  scalar(name: string, value: number): string {
    return this.floats(name, [], Float32Array.of(value));
  }

  ints(name: string, values: number[], dims = [values.length]): string {
    return this.initializer(name, () => int64Tensor(name, dims, values));
  }

  /** Runs `build` with a node list of its own, for a subgraph that shares this graph's initializers. */
  subgraph(build: () => void): Node[] {
    const outer = this.nodes;
    this.nodes = [];
    try {
      build();
      return this.nodes;
    } finally {
      this.nodes = outer;
    }
  }
}

/**
 * Where the graph's parameters come from: float tensors (the tiny model), or int8 weights behind
 * onnxruntime's dynamic-quantization ops (the phi-2 shapes, see quantized.ts).
 */
export interface PhiParameters {
  /** A float vector: a LayerNorm's scale or shift, or a bias. */
  vector(name: string, length: number): Float32Array;
  /** Emits `input @ W` for the `[inDim, outDim]` weight `name`; returns the product. */
  matMul(g: GraphBuilder, input: string, name: string, inDim: number, outDim: number): string;
  /** Emits the embedding rows of `ids` from the `[vocab, hidden]` table `name`. */
  embed(g: GraphBuilder, name: string, ids: string, vocab: number, hidden: number): string;
}

/** The tiny model's parameters: every tensor in memory, as plain float MatMul and Gather inputs. */
export function floatParameters(w: PhiWeights): PhiParameters {
  const tensors = new Map<string, Float32Array>([
    ['embed_tokens', w.embed],
    ['final_ln.weight', w.finalGamma],
    ['final_ln.bias', w.finalBeta],
    ['lm_head.weight', w.lmHead],
    ['lm_head.bias', w.lmBias],
  ]);
  const names: [keyof LayerWeights, string][] = [
    ['lnGamma', 'ln.weight'], ['lnBeta', 'ln.bias'],
    ['wq', 'q_proj.weight'], ['bq', 'q_proj.bias'], ['wk', 'k_proj.weight'], ['bk', 'k_proj.bias'],
    ['wv', 'v_proj.weight'], ['bv', 'v_proj.bias'], ['wDense', 'dense.weight'], ['bDense', 'dense.bias'],
    ['wFc1', 'fc1.weight'], ['bFc1', 'fc1.bias'], ['wFc2', 'fc2.weight'], ['bFc2', 'fc2.bias'],
  ];
  w.layers.forEach((layer, l) => {
    for (const [key, name] of names) tensors.set(`layers.${l}.${name}`, layer[key]);
  });
  const get = (name: string) => {
    const tensor = tensors.get(name);
    if (!tensor) throw new Error(`No weight named ${name}.`);
    return tensor;
  };
  return {
    vector: get,
    matMul: (g, input, name, inDim, outDim) => g.op('MatMul', [input, g.floats(name, [inDim, outDim], get(name))]),
    embed: (g, name, ids, vocab, hidden) => g.op('Gather', [g.floats(name, [vocab, hidden], get(name)), ids], { axis: int(0) }),
  };
}

const ints = (value: number[]): Attribute => ({ kind: 'ints', value });
const int = (value: number): Attribute => ({ kind: 'int', value });

export interface PhiGraphOptions {
  /**
   * Optimum's merged decoder: an `If` on the `use_cache_branch` input picks the graph with past
   * (`then`) or the one without (`else`, which ignores the past inputs), over shared weights.
   */
  merged?: boolean;
  sink?: InitializerSink;
  name?: string;
}

export function buildPhiGraph(c: PhiConfig, params: PhiParameters, rope: RopeTables, options: PhiGraphOptions = {}): Graph {
  const g = new GraphBuilder(options.sink);
  const { numHeads: nh, headDim: hd, vocabSize: v } = c;

  const inputs: ValueInfo[] = [
    { name: 'input_ids', elemType: DataType.INT64, shape: ['batch_size', 'sequence_length'] },
    { name: 'attention_mask', elemType: DataType.INT64, shape: ['batch_size', 'total_sequence_length'] },
    { name: 'position_ids', elemType: DataType.INT64, shape: ['batch_size', 'sequence_length'] },
  ];
  const outputs: ValueInfo[] = [{ name: 'logits', elemType: DataType.FLOAT, shape: ['batch_size', 'sequence_length', v] }];
  // transformers.js builds the first step's empty cache from this metadata: named
  // dims other than batch_size become 0, so heads and head size must be literal.
  for (let l = 0; l < c.numLayers; l++) {
    for (const kind of ['key', 'value']) {
      inputs.push({ name: `past_key_values.${l}.${kind}`, elemType: DataType.FLOAT, shape: ['batch_size', nh, 'past_sequence_length', hd] });
      outputs.push({ name: `present.${l}.${kind}`, elemType: DataType.FLOAT, shape: ['batch_size', nh, 'total_sequence_length', hd] });
    }
  }
  const name = options.name ?? 'phi_tiny';
  if (!options.merged) {
    decoderBody(g, c, params, rope, true);
    return { name, nodes: g.nodes, initializers: g.initializers, inputs, outputs };
  }
  const branch = (branchName: string, withPast: boolean): Graph => ({
    name: branchName,
    nodes: g.subgraph(() => decoderBody(g, c, params, rope, withPast)),
    initializers: [],
    inputs: [],
    outputs,
  });
  const withPast = branch('with_past', true);
  const noPast = branch('no_past', false);
  g.opN('If', ['use_cache_branch'], outputs.length, { then_branch: { kind: 'graph', value: withPast }, else_branch: { kind: 'graph', value: noPast } }, outputs.map((o) => o.name));
  inputs.push({ name: 'use_cache_branch', elemType: DataType.BOOL, shape: [1] });
  return { name, nodes: g.nodes, initializers: g.initializers, inputs, outputs };
}

/** The decoder's nodes; without past, the new keys and values are the whole cache. */
function decoderBody(g: GraphBuilder, c: PhiConfig, params: PhiParameters, rope: RopeTables, withPast: boolean): void {
  const { hiddenSize: h, intermediateSize: m, numHeads: nh, headDim: hd, rotaryDim: rd, vocabSize: v } = c;

  const zero = g.ints('zero', [0], []);
  const one = g.ints('one', [1], []);
  const axis0 = g.ints('axes_0', [0]);
  const axis1 = g.ints('axes_1', [1]);

  // Visibility mask [batch, 1, seq, total]: causal over cache positions (query s
  // sits at absolute index past + s) and-ed with the padding mask.
  const seqLen = g.op('Gather', [g.op('Shape', ['input_ids']), one], { axis: int(0) });
  const totalLen = g.op('Gather', [g.op('Shape', ['attention_mask']), one], { axis: int(0) });
  const pastLen = g.op('Sub', [totalLen, seqLen]);
  const keyPos = g.op('Unsqueeze', [g.op('Range', [zero, totalLen, one]), axis0]);
  const queryPos = g.op('Unsqueeze', [g.op('Range', [pastLen, totalLen, one]), axis1]);
  const causal = g.op('LessOrEqual', [keyPos, queryPos]);
  const padding = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: int(DataType.BOOL) }), g.ints('axes_1_2', [1, 2])]);
  const visible = g.op('And', [causal, padding]);
  const masked = g.scalar('masked_score', MASKED);

  // Rotary tables gathered by position id -> [batch, 1, seq, rotaryDim].
  const cosTable = g.floats('rope_cos', [c.maxPositions, rd], rope.cos);
  const sinTable = g.floats('rope_sin', [c.maxPositions, rd], rope.sin);
  const cos = g.op('Unsqueeze', [g.op('Gather', [cosTable, 'position_ids'], { axis: int(0) }), axis1]);
  const sin = g.op('Unsqueeze', [g.op('Gather', [sinTable, 'position_ids'], { axis: int(0) }), axis1]);
  const rotarySplit = g.ints('rotary_split', [rd, hd - rd]);
  const halfSplit = g.ints('half_split', [rd / 2, rd / 2]);
  const applyRotary = (t: string): string => {
    const [rot, pass] = g.opN('Split', [t, rotarySplit], 2, { axis: int(-1) }) as [string, string];
    const [x1, x2] = g.opN('Split', [rot, halfSplit], 2, { axis: int(-1) }) as [string, string];
    const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: int(-1) });
    const embedded = g.op('Add', [g.op('Mul', [rot, cos]), g.op('Mul', [rotated, sin])]);
    return g.op('Concat', [embedded, pass], { axis: int(-1) });
  };

  const headsShape = g.ints('heads_shape', [0, 0, nh, hd]);
  const hiddenShape = g.ints('hidden_shape', [0, 0, h]);
  const toHeads = (t: string): string =>
    g.op('Transpose', [g.op('Reshape', [t, headsShape])], { perm: ints([0, 2, 1, 3]) });
  const attnScale = g.scalar('attn_scale', 1 / Math.sqrt(hd));
  const geluCubic = g.scalar('gelu_cubic', 0.044715);
  const geluScale = g.scalar('gelu_scale', Math.sqrt(2 / Math.PI));
  const half = g.scalar('half', 0.5);
  const oneF = g.scalar('one_f', 1);

  const vector = (name: string, length: number) => g.floats(name, [length], () => params.vector(name, length));
  let x = params.embed(g, 'embed_tokens', 'input_ids', v, h);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `layers.${l}`;
    const linear = (input: string, name: string, inDim: number, outDim: number) =>
      g.op('Add', [params.matMul(g, input, `${p}.${name}.weight`, inDim, outDim), vector(`${p}.${name}.bias`, outDim)]);

    const ln = g.op('LayerNormalization', [x, vector(`${p}.ln.weight`, h), vector(`${p}.ln.bias`, h)], {
      axis: int(-1),
      epsilon: { kind: 'float', value: c.layerNormEps },
    });

    const q = applyRotary(toHeads(linear(ln, 'q_proj', h, h)));
    const k = applyRotary(toHeads(linear(ln, 'k_proj', h, h)));
    const val = toHeads(linear(ln, 'v_proj', h, h));
    const cache = (past: string, present: string, current: string) =>
      withPast ? g.op('Concat', [past, current], { axis: int(2) }, present) : g.op('Identity', [current], undefined, present);
    const keys = cache(`past_key_values.${l}.key`, `present.${l}.key`, k);
    const values = cache(`past_key_values.${l}.value`, `present.${l}.value`, val);

    const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [keys], { perm: ints([0, 1, 3, 2]) })]), attnScale]);
    const probs = g.op('Softmax', [g.op('Where', [visible, scores, masked])], { axis: int(-1) });
    const context = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, values])], { perm: ints([0, 2, 1, 3]) }), hiddenShape]);
    const attnOut = linear(context, 'dense', h, h);

    // gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); opset 17 has no tanh-approximate Gelu.
    const pre = linear(ln, 'fc1', h, m);
    const cubic = g.op('Mul', [g.op('Mul', [g.op('Mul', [pre, pre]), pre]), geluCubic]);
    const tanh = g.op('Tanh', [g.op('Mul', [g.op('Add', [pre, cubic]), geluScale])]);
    const gelu = g.op('Mul', [g.op('Mul', [pre, half]), g.op('Add', [tanh, oneF])]);
    const mlpOut = linear(gelu, 'fc2', m, h);

    x = g.op('Add', [g.op('Add', [x, attnOut]), mlpOut]);
  }

  const final = g.op('LayerNormalization', [x, vector('final_ln.weight', h), vector('final_ln.bias', h)], {
    axis: int(-1),
    epsilon: { kind: 'float', value: c.layerNormEps },
  });
  g.op('Add', [params.matMul(g, final, 'lm_head.weight', h, v), vector('lm_head.bias', v)], undefined, 'logits');
}
