import { describe, expect, it } from 'vitest';
import { computeMetrics, formatMetrics, type Outcome } from './metrics';

const labels = ['support', 'sales', 'joke'] as const;
type Label = (typeof labels)[number];

/** Builds outcomes from a confusion matrix (rows expected, columns predicted). */
function fromMatrix(matrix: number[][]): Outcome<Label>[] {
  return matrix.flatMap((row, i) => row.flatMap((n, j) => Array.from({ length: n }, (_, k) => ({ expected: labels[i], predicted: labels[j], text: `${labels[i]}→${labels[j]} ${k}` }))));
}

describe('computeMetrics', () => {
  // support: 8 right, 2 taken for sales; sales: 1 taken for support, 6 right, 3 for joke; joke: all 5 right.
  const matrix = [
    [8, 2, 0],
    [1, 6, 3],
    [0, 0, 5],
  ];
  const metrics = computeMetrics(labels, fromMatrix(matrix));

  it('counts the confusion matrix, accuracy and the wrong examples', () => {
    expect(metrics.confusion).toEqual(matrix);
    expect(metrics.total).toBe(25);
    expect(metrics.correct).toBe(19);
    expect(metrics.accuracy).toBeCloseTo(19 / 25);
    expect(metrics.wrong).toHaveLength(6);
    expect(metrics.wrong.every((w) => w.expected !== w.predicted)).toBe(true);
  });

  it('gives precision by column and recall by row', () => {
    expect(metrics.perClass.support.precision).toBeCloseTo(8 / 9);
    expect(metrics.perClass.support.recall).toBeCloseTo(8 / 10);
    expect(metrics.perClass.sales.precision).toBeCloseTo(6 / 8);
    expect(metrics.perClass.sales.recall).toBeCloseTo(6 / 10);
    expect(metrics.perClass.joke.precision).toBeCloseTo(5 / 8);
    expect(metrics.perClass.joke.recall).toBe(1);
    expect(metrics.perClass.joke.support).toBe(5);
  });

  it('says n/a, not 0 or NaN, for a class never predicted or absent from the set', () => {
    const none = computeMetrics(labels, fromMatrix([[3, 0, 0], [2, 0, 0], [0, 0, 0]]));
    expect(none.perClass.sales.precision).toBeNull();
    expect(none.perClass.joke.recall).toBeNull();
    expect(none.perClass.sales.recall).toBe(0);
    expect(computeMetrics(labels, []).accuracy).toBeNull();
    expect(formatMetrics('x', none)).toMatch(/sales\s+n\/a\s+0\.0 %\s+2/);
  });

  it('refuses a label outside the set', () => {
    expect(() => computeMetrics(labels, [{ expected: 'support', predicted: 'general' as Label, text: '' }])).toThrow(/general/);
  });

  it('prints the table', () => {
    const text = formatMetrics('intent', metrics);
    expect(text).toContain('intent: accuracy 19/25 = 76.0 %');
    expect(text).toMatch(/support\s+88\.9 %\s+80\.0 %\s+10/);
    expect(text).toMatch(/sales\s+1\s+6\s+3/);
    expect(text).toContain('wrong (6):');
    expect(text).toContain('expected support, got sales: "support→sales 0"');
  });
});
