import { INTENTS, type Classification, type Intent } from './protocol';

/**
 * The top intent must be more likely than the other two together (p > 0.5) to steer the reply;
 * below that the classifier is unsure and the reply uses general instructions.
 */
export const CONFIDENCE_THRESHOLD = 0.5;

/** The label text the model is scored on: each follows "The category is". */
export const LABEL_CONTINUATIONS: Record<Intent, string> = {
  support: ' support',
  sales: ' sales',
  joke: ' joke',
};

/** log p(token) under a softmax over one row of logits, computed stably. */
export function logSoftmaxAt(logits: ArrayLike<number>, offset: number, size: number, token: number): number {
  let max = -Infinity;
  for (let i = 0; i < size; i++) max = Math.max(max, logits[offset + i]);
  let sum = 0;
  for (let i = 0; i < size; i++) sum += Math.exp(logits[offset + i] - max);
  return logits[offset + token] - max - Math.log(sum);
}

/** Turns each label's total log-probability into a distribution over the labels only. */
export function classify(logProbs: Record<Intent, number>, threshold = CONFIDENCE_THRESHOLD): Classification {
  const max = Math.max(...INTENTS.map((i) => logProbs[i]));
  const weights = INTENTS.map((i) => Math.exp(logProbs[i] - max));
  const total = weights.reduce((a, b) => a + b, 0);
  const probabilities = Object.fromEntries(INTENTS.map((intent, k) => [intent, weights[k] / total])) as Record<
    Intent,
    number
  >;
  const top = INTENTS.reduce((a, b) => (probabilities[b] > probabilities[a] ? b : a));
  return { probabilities, route: probabilities[top] > threshold ? top : 'general' };
}
