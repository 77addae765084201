// Hyper-parameters and seeded weights of the tiny phi model. Matrices are stored
// [in, out] row-major (the transpose of torch's nn.Linear.weight) so both the ONNX
// MatMul nodes and the reference implementation use them as-is.

import { seededRandom } from '../../workers/sampling.js';
import { EOS_TOKEN, symbolBytes, type Vocabulary } from './tokenizer.js';

export interface PhiConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  headDim: number;
  partialRotaryFactor: number;
  rotaryDim: number;
  ropeTheta: number;
  layerNormEps: number;
  maxPositions: number;
}

export function phiConfig(vocabSize: number): PhiConfig {
  const hiddenSize = 64;
  const numHeads = 4;
  const headDim = hiddenSize / numHeads;
  const partialRotaryFactor = 0.5;
  return {
    vocabSize,
    hiddenSize,
    intermediateSize: 256,
    numLayers: 2,
    numHeads,
    headDim,
    partialRotaryFactor,
    rotaryDim: headDim * partialRotaryFactor,
    ropeTheta: 10000,
    layerNormEps: 1e-5,
    maxPositions: 2048,
  };
}

export interface LayerWeights {
  lnGamma: Float32Array;
  lnBeta: Float32Array;
  wq: Float32Array;
  bq: Float32Array;
  wk: Float32Array;
  bk: Float32Array;
  wv: Float32Array;
  bv: Float32Array;
  wDense: Float32Array;
  bDense: Float32Array;
  wFc1: Float32Array;
  bFc1: Float32Array;
  wFc2: Float32Array;
  bFc2: Float32Array;
}

export interface PhiWeights {
  embed: Float32Array;
  layers: LayerWeights[];
  finalGamma: Float32Array;
  finalBeta: Float32Array;
  lmHead: Float32Array;
  lmBias: Float32Array;
}

/** Rotary tables [maxPositions, rotaryDim], halves duplicated as in HF's cos_cached. */
export interface RopeTables {
  cos: Float32Array;
  sin: Float32Array;
}

export function parameterCount(w: PhiWeights): number {
  let n = w.embed.length + w.finalGamma.length + w.finalBeta.length + w.lmHead.length + w.lmBias.length;
  for (const layer of w.layers) for (const t of Object.values(layer)) n += t.length;
  return n;
}

// mulberry32 (the engine's own seeded generator): tiny, fast and, unlike Math.random, seedable.
// Uniform rather than Gaussian noise avoids transcendental functions, so the bytes cannot drift
// between JS engines.
export const prng = seededRandom;

export function ropeTables(c: PhiConfig): RopeTables {
  const half = c.rotaryDim / 2;
  const cos = new Float32Array(c.maxPositions * c.rotaryDim);
  const sin = new Float32Array(c.maxPositions * c.rotaryDim);
  for (let p = 0; p < c.maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p / Math.pow(c.ropeTheta, (2 * i) / c.rotaryDim);
      for (const j of [i, i + half]) {
        cos[p * c.rotaryDim + j] = Math.cos(angle);
        sin[p * c.rotaryDim + j] = Math.sin(angle);
      }
    }
  }
  return { cos, sin };
}

/**
 * Per-token logit offsets that make sampled output look like a stream of words:
 * whole corpus words with a leading space dominate, punctuation shows up now and
 * then, and tokens that would end or derail a chat reply (EOS, newline, ':',
 * control characters, lone UTF-8 bytes) are practically never chosen.
 */
export function tokenBias(vocab: Vocabulary): Float32Array {
  const bias = new Float32Array(vocab.tokens.length);
  vocab.tokens.forEach((symbol, id) => {
    // Like EOS, the chat markers stay out of replies: a reply runs to its token limit, as phi-tiny's do.
    bias[id] = symbol === EOS_TOKEN || id === vocab.chat?.imStartId || id === vocab.chat?.imEndId ? -20 : classBias(symbol, vocab.corpusWords.has(symbol));
  });
  return bias;
}

// Logit offsets per token class; the input-dependent part of the logits has a
// standard deviation of about 1, so gaps of several units decide the mix.
function classBias(symbol: string, wholeWord: boolean): number {
  const bytes = symbolBytes(symbol);
  const text = String.fromCharCode(...bytes);
  if (bytes.some((b) => b < 0x20 || b >= 0x7f) || text.includes(':')) return -15;
  if (/^ [A-Za-z]+$/.test(text)) return wholeWord ? 4 : 1;
  if (/^[.,!?]$/.test(text)) return 4.5;
  if (/^[A-Za-z']+$/.test(text)) return wholeWord ? -1 : 0;
  if (/^\s+$/.test(text)) return -4;
  return -3;
}

export function generateWeights(c: PhiConfig, lmBias: Float32Array, seed: number): PhiWeights {
  const next = prng(seed);
  // Uniform noise with the requested standard deviation (variance of U(-a, a) is a^2/3).
  const noise = (n: number, std: number, mean = 0): Float32Array => {
    const a = std * Math.sqrt(3);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + (2 * next() - 1) * a;
    return out;
  };
  const { hiddenSize: h, intermediateSize: m, vocabSize: v } = c;
  const biasStd = 0.02;

  const embed = noise(v * h, 1);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    // 1/sqrt(fan_in) keeps q, k, v and the MLP pre-activations at unit scale; the
    // branch outputs are halved so the residual stream grows slowly with depth.
    layers.push({
      lnGamma: noise(h, 0.05, 1),
      lnBeta: noise(h, 0.02),
      wq: noise(h * h, 1 / Math.sqrt(h)),
      bq: noise(h, biasStd),
      wk: noise(h * h, 1 / Math.sqrt(h)),
      bk: noise(h, biasStd),
      wv: noise(h * h, 1 / Math.sqrt(h)),
      bv: noise(h, biasStd),
      wDense: noise(h * h, 0.5 / Math.sqrt(h)),
      bDense: noise(h, biasStd),
      wFc1: noise(h * m, 1 / Math.sqrt(h)),
      bFc1: noise(m, biasStd),
      wFc2: noise(m * h, 0.5 / Math.sqrt(m)),
      bFc2: noise(h, biasStd),
    });
  }
  return {
    embed,
    layers,
    finalGamma: noise(h, 0.05, 1),
    finalBeta: noise(h, 0.02),
    // The final LayerNorm output has norm ~sqrt(h), so this gives the input-dependent
    // part of the logits a standard deviation of about 1: enough to steer sampling,
    // too little to override the bias classes.
    lmHead: noise(h * v, 1 / Math.sqrt(h)),
    lmBias: Float32Array.from(lmBias),
  };
}
