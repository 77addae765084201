import type { GenerationParams } from './protocol';

export type SamplingParams = Pick<GenerationParams, 'temperature' | 'topK' | 'topP' | 'repetitionPenalty'>;

/**
 * Divides a positive logit by the penalty and multiplies a negative one, once per distinct token.
 * Only the tokens the model generated count, never the prompt's: WebLLM does the same, so the
 * setting means one thing on both engines, and a reply may still use the words of the question.
 */
export function applyRepetitionPenalty(logits: Float32Array, generated: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const token of new Set(generated)) {
    const value = logits[token]!;
    logits[token] = value > 0 ? value / penalty : value * penalty;
  }
}

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** The k tokens of highest logit, highest first, without sorting the whole vocabulary. */
function topTokens(logits: Float32Array, k: number): number[] {
  const top: number[] = [];
  for (let token = 0; token < logits.length; token++) {
    const value = logits[token]!;
    if (top.length === k && value <= logits[top[k - 1]!]!) continue;
    if (top.length === k) top.pop();
    let at = top.length;
    while (at > 0 && logits[top[at - 1]!]! < value) at--;
    top.splice(at, 0, token);
  }
  return top;
}

/**
 * The next token from one row of logits (modified in place), in the order transformers.js applies
 * its processors: repetition penalty, then (when sampling) temperature, top-k and top-p. A
 * temperature of 0 is greedy decoding.
 */
export function sampleToken(logits: Float32Array, generated: readonly number[], params: SamplingParams, random: () => number): number {
  applyRepetitionPenalty(logits, generated, params.repetitionPenalty);
  if (params.temperature <= 0) return argmax(logits);
  const candidates = params.topK > 0 && params.topK < logits.length ? topTokens(logits, params.topK) : Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!);
  const top = logits[candidates[0]!]! / params.temperature;
  const weights = candidates.map((token) => Math.exp(logits[token]! / params.temperature - top));
  const total = weights.reduce((a, b) => a + b, 0);
  // Top-p keeps the smallest head of the distribution whose mass reaches p (at least one token).
  let kept = 0;
  let mass = 0;
  while (kept < candidates.length && (kept === 0 || mass < params.topP * total)) mass += weights[kept++]!;
  let pick = random() * mass;
  for (let i = 0; i < kept; i++) {
    pick -= weights[i]!;
    if (pick <= 0) return candidates[i]!;
  }
  return candidates[kept - 1]!;
}

/** A small seeded generator (mulberry32), for replies that tests can reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
