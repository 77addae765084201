import { describe, expect, it } from 'vitest';
import { classify, CONFIDENCE_THRESHOLD, logSoftmaxAt } from './labels';

describe('logSoftmaxAt', () => {
  it('matches the textbook log-softmax and stays finite for huge logits', () => {
    const row = [1, 2, 3];
    const expected = 3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(logSoftmaxAt(row, 0, 3, 2)).toBeCloseTo(expected, 12);
    expect(logSoftmaxAt([1000, 1001, 0], 0, 3, 1)).toBeCloseTo(-Math.log(1 + Math.exp(-1)), 9);
  });

  it('reads the row at the given offset', () => {
    const logits = [9, 9, 9, 0, 0, Math.log(2)];
    expect(Math.exp(logSoftmaxAt(logits, 3, 3, 2))).toBeCloseTo(0.5, 12);
  });
});

describe('classify', () => {
  it('normalises over the three labels only and picks the top one', () => {
    const result = classify({ support: Math.log(0.02), sales: Math.log(0.01), joke: Math.log(0.01) });
    expect(result.probabilities.support).toBeCloseTo(0.5, 12);
    expect(result.probabilities.sales + result.probabilities.joke + result.probabilities.support).toBeCloseTo(1, 12);
    expect(result.route).toBe('general'); // exactly 0.5 is not more than the others together
  });

  it('routes to the top label above the threshold, and to general below it', () => {
    expect(classify({ support: -1, sales: -5, joke: -5 }).route).toBe('support');
    expect(classify({ support: -2, sales: -2, joke: -9 }).route).toBe('general');
    expect(classify({ support: -2, sales: -2.5, joke: -2.5 }).route).toBe('general');
    expect(classify({ support: -9, sales: -9, joke: -0.1 }).route).toBe('joke');
  });

  it('has a threshold that means "more likely than the other two together"', () => {
    expect(CONFIDENCE_THRESHOLD).toBe(0.5);
  });

  it('copes with very negative log-probabilities of multi-token labels', () => {
    const result = classify({ support: -3000, sales: -3001, joke: -3010 });
    expect(result.probabilities.support).toBeCloseTo(1 / (1 + Math.exp(-1) + Math.exp(-10)), 9);
  });
});
