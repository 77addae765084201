// The phi decoder as an ONNX graph with the input/output contract of Optimum's
// text-generation-with-past exports, which is what transformers.js drives.

import { DataType, float32Tensor, int64Tensor, type Attribute, type Graph, type Node, type Tensor, type ValueInfo } from './onnx.js';
import type { PhiConfig, PhiWeights, RopeTables } from './weights.js';

// Must match reference.ts: finite, so fully masked (padding) rows stay NaN-free.
const MASKED = -1e9;

class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  private counter = 0;

  op(opType: string, inputs: string[], attributes?: Record<string, Attribute>, output?: string): string {
    return this.opN(opType, inputs, 1, attributes, output ? [output] : undefined)[0]!;
  }

  opN(opType: string, inputs: string[], count: number, attributes?: Record<string, Attribute>, outputs?: string[]): string[] {
    const name = `${opType}_${this.counter++}`;
    const outs = outputs ?? Array.from({ length: count }, (_, i) => `${name}_out${i}`);
    this.nodes.push({ opType, name, inputs, outputs: outs, attributes });
    return outs;
  }

  floats(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push(float32Tensor(name, dims, data));
    return name;
  }

  scalar(name: string, value: number): string {
    return this.floats(name, [], Float32Array.of(value));
  }

  ints(name: string, values: number[], dims = [values.length]): string {
    this.initializers.push(int64Tensor(name, dims, values));
    return name;
  }
}

const ints = (value: number[]): Attribute => ({ kind: 'ints', value });
const int = (value: number): Attribute => ({ kind: 'int', value });

export function buildPhiGraph(c: PhiConfig, w: PhiWeights, rope: RopeTables): Graph {
  const g = new GraphBuilder();
  const { hiddenSize: h, intermediateSize: m, numHeads: nh, headDim: hd, rotaryDim: rd, vocabSize: v } = c;

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

  let x = g.op('Gather', [g.floats('embed_tokens', [v, h], w.embed), 'input_ids'], { axis: int(0) });
  w.layers.forEach((lw, l) => {
    const p = `layers.${l}`;
    const linear = (input: string, name: string, weight: Float32Array, bias: Float32Array, inDim: number, outDim: number) =>
      g.op('Add', [g.op('MatMul', [input, g.floats(`${p}.${name}.weight`, [inDim, outDim], weight)]), g.floats(`${p}.${name}.bias`, [outDim], bias)]);

    const ln = g.op('LayerNormalization', [x, g.floats(`${p}.ln.weight`, [h], lw.lnGamma), g.floats(`${p}.ln.bias`, [h], lw.lnBeta)], {
      axis: int(-1),
      epsilon: { kind: 'float', value: c.layerNormEps },
    });

    const q = applyRotary(toHeads(linear(ln, 'q_proj', lw.wq, lw.bq, h, h)));
    const k = applyRotary(toHeads(linear(ln, 'k_proj', lw.wk, lw.bk, h, h)));
    const val = toHeads(linear(ln, 'v_proj', lw.wv, lw.bv, h, h));
    const keys = g.op('Concat', [`past_key_values.${l}.key`, k], { axis: int(2) }, `present.${l}.key`);
    const values = g.op('Concat', [`past_key_values.${l}.value`, val], { axis: int(2) }, `present.${l}.value`);

    const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [keys], { perm: ints([0, 1, 3, 2]) })]), attnScale]);
    const probs = g.op('Softmax', [g.op('Where', [visible, scores, masked])], { axis: int(-1) });
    const context = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, values])], { perm: ints([0, 2, 1, 3]) }), hiddenShape]);
    const attnOut = linear(context, 'dense', lw.wDense, lw.bDense, h, h);

    // gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); opset 17 has no tanh-approximate Gelu.
    const pre = linear(ln, 'fc1', lw.wFc1, lw.bFc1, h, m);
    const cubic = g.op('Mul', [g.op('Mul', [g.op('Mul', [pre, pre]), pre]), geluCubic]);
    const tanh = g.op('Tanh', [g.op('Mul', [g.op('Add', [pre, cubic]), geluScale])]);
    const gelu = g.op('Mul', [g.op('Mul', [pre, half]), g.op('Add', [tanh, oneF])]);
    const mlpOut = linear(gelu, 'fc2', lw.wFc2, lw.bFc2, m, h);

    x = g.op('Add', [g.op('Add', [x, attnOut]), mlpOut]);
  });

  const final = g.op('LayerNormalization', [x, g.floats('final_ln.weight', [h], w.finalGamma), g.floats('final_ln.bias', [h], w.finalBeta)], {
    axis: int(-1),
    epsilon: { kind: 'float', value: c.layerNormEps },
  });
  g.op('Add', [g.op('MatMul', [final, g.floats('lm_head.weight', [h, v], w.lmHead)]), g.floats('lm_head.bias', [v], w.lmBias)], undefined, 'logits');

  return { name: 'phi_tiny', nodes: g.nodes, initializers: g.initializers, inputs, outputs };
}
