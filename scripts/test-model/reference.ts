// Straightforward TypeScript forward pass of the tiny phi network, written
// independently of the ONNX graph so the two can check each other. Float64 math
// throughout; the comparison tolerance absorbs ORT's float32 rounding.

import type { PhiConfig, PhiWeights, RopeTables } from './weights.js';

/** Attention cache of one layer, laid out [batch, heads, length, headDim] like ORT's tensors. */
export interface LayerCache {
  key: Float32Array;
  value: Float32Array;
  length: number;
}

export interface ForwardInput {
  inputIds: number[][];
  attentionMask: number[][];
  positionIds: number[][];
  past?: LayerCache[];
}

export interface ForwardOutput {
  /** [batch, sequence, vocab] */
  logits: Float32Array;
  present: LayerCache[];
}

// Same finite fill value as the graph: a fully masked row (a left-padding query)
// then softmaxes to a uniform distribution instead of NaN.
const MASKED = -1e9;

function layerNorm(x: Float64Array, gamma: Float32Array, beta: Float32Array, eps: number): Float64Array {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  variance /= n;
  const inv = 1 / Math.sqrt(variance + eps);
  return x.map((v, i) => (v - mean) * inv * gamma[i]! + beta[i]!);
}

/** x[in] @ w[in, out] + b[out] */
function linear(x: Float64Array, w: Float32Array, b: Float32Array): Float64Array {
  const out = Float64Array.from(b);
  const outDim = b.length;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const row = i * outDim;
    for (let o = 0; o < outDim; o++) out[o]! += xi * w[row + o]!;
  }
  return out;
}

function geluNew(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

/** GPT-NeoX rotary embedding on the first rotaryDim dims of one head vector, in place. */
function rotate(v: Float64Array, offset: number, c: PhiConfig, rope: RopeTables, position: number): void {
  const half = c.rotaryDim / 2;
  const row = position * c.rotaryDim;
  const orig = v.slice(offset, offset + c.rotaryDim);
  for (let j = 0; j < c.rotaryDim; j++) {
    const rotated = j < half ? -orig[j + half]! : orig[j - half]!;
    v[offset + j] = orig[j]! * rope.cos[row + j]! + rotated * rope.sin[row + j]!;
  }
}

export function forward(c: PhiConfig, w: PhiWeights, rope: RopeTables, input: ForwardInput): ForwardOutput {
  const { hiddenSize: h, numHeads: nh, headDim: hd, vocabSize: v } = c;
  const batch = input.inputIds.length;
  const seq = input.inputIds[0]!.length;
  const pastLen = input.past?.[0]?.length ?? 0;
  const total = pastLen + seq;

  // Residual stream per (batch, position).
  const x: Float64Array[][] = input.inputIds.map((ids) =>
    ids.map((id) => Float64Array.from(w.embed.subarray(id * h, (id + 1) * h))),
  );

  const present: LayerCache[] = [];
  w.layers.forEach((lw, l) => {
    const key = new Float32Array(batch * nh * total * hd);
    const value = new Float32Array(batch * nh * total * hd);
    const cacheIndex = (b: number, head: number, t: number) => ((b * nh + head) * total + t) * hd;
    const past = input.past?.[l];
    if (past) {
      for (let b = 0; b < batch; b++) {
        for (let head = 0; head < nh; head++) {
          const from = (b * nh + head) * pastLen * hd;
          key.set(past.key.subarray(from, from + pastLen * hd), cacheIndex(b, head, 0));
          value.set(past.value.subarray(from, from + pastLen * hd), cacheIndex(b, head, 0));
        }
      }
    }

    const normed = x.map((row) => row.map((xs) => layerNorm(xs, lw.lnGamma, lw.lnBeta, c.layerNormEps)));
    const queries = normed.map((row, b) =>
      row.map((ln, s) => {
        const q = linear(ln, lw.wq, lw.bq);
        const k = linear(ln, lw.wk, lw.bk);
        const val = linear(ln, lw.wv, lw.bv);
        const position = input.positionIds[b]![s]!;
        for (let head = 0; head < nh; head++) {
          rotate(q, head * hd, c, rope, position);
          rotate(k, head * hd, c, rope, position);
          key.set(k.subarray(head * hd, (head + 1) * hd), cacheIndex(b, head, pastLen + s));
          value.set(val.subarray(head * hd, (head + 1) * hd), cacheIndex(b, head, pastLen + s));
        }
        return q;
      }),
    );

    for (let b = 0; b < batch; b++) {
      for (let s = 0; s < seq; s++) {
        const context = new Float64Array(h);
        for (let head = 0; head < nh; head++) {
          const scores = new Float64Array(total);
          for (let t = 0; t < total; t++) {
            const visible = t <= pastLen + s && input.attentionMask[b]![t] !== 0;
            if (!visible) {
              scores[t] = MASKED;
              continue;
            }
            let dot = 0;
            for (let d = 0; d < hd; d++) dot += queries[b]![s]![head * hd + d]! * key[cacheIndex(b, head, t) + d]!;
            scores[t] = dot / Math.sqrt(hd);
          }
          const max = Math.max(...scores);
          const exps = scores.map((sc) => Math.exp(sc - max));
          const sum = exps.reduce((a, e) => a + e, 0);
          for (let t = 0; t < total; t++) {
            const p = exps[t]! / sum;
            for (let d = 0; d < hd; d++) context[head * hd + d]! += p * value[cacheIndex(b, head, t) + d]!;
          }
        }
        const ln = normed[b]![s]!;
        const attnOut = linear(context, lw.wDense, lw.bDense);
        const mlpOut = linear(linear(ln, lw.wFc1, lw.bFc1).map(geluNew), lw.wFc2, lw.bFc2);
        // Phi's parallel block: both branches read the same LayerNorm output.
        const residual = x[b]![s]!;
        for (let i = 0; i < h; i++) residual[i]! += attnOut[i]! + mlpOut[i]!;
      }
    }
    present.push({ key, value, length: total });
  });

  const logits = new Float32Array(batch * seq * v);
  x.forEach((row, b) =>
    row.forEach((xs, s) => {
      const final = layerNorm(xs, w.finalGamma, w.finalBeta, c.layerNormEps);
      logits.set(linear(final, w.lmHead, w.lmBias), (b * seq + s) * v);
    }),
  );
  return { logits, present };
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Greedy decoding with the KV cache, one sequence, no padding. */
export function greedy(c: PhiConfig, w: PhiWeights, rope: RopeTables, prompt: number[], steps: number): number[] {
  const generated: number[] = [];
  let ids = prompt;
  let past: LayerCache[] | undefined;
  for (let step = 0; step < steps; step++) {
    const start = past?.[0]?.length ?? 0;
    const total = start + ids.length;
    const out = forward(c, w, rope, {
      inputIds: [ids],
      attentionMask: [new Array<number>(total).fill(1)],
      positionIds: [ids.map((_, i) => start + i)],
      past,
    });
    const next = argmax(out.logits.subarray((ids.length - 1) * c.vocabSize));
    generated.push(next);
    ids = [next];
    past = out.present;
  }
  return generated;
}
