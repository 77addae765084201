/** Scores for a labelled evaluation: pure, so the numbers `npm run eval` prints are unit-tested. */

export interface Outcome<Label extends string> {
  expected: Label;
  predicted: Label;
  /** What was classified, to show the examples that went wrong. */
  text: string;
  /** Extra context printed with a wrong example (the probability, say). */
  detail?: string;
}

export interface ClassScores {
  /** Of the examples predicted as this class, the share that were; null when none was predicted. */
  precision: number | null;
  /** Of the examples of this class, the share predicted as it; null when the set has none. */
  recall: number | null;
  /** Examples of this class in the set. */
  support: number;
}

export interface Metrics<Label extends string> {
  labels: readonly Label[];
  total: number;
  correct: number;
  accuracy: number | null;
  perClass: Record<Label, ClassScores>;
  /** confusion[i][j]: examples of labels[i] predicted as labels[j]. */
  confusion: number[][];
  wrong: Outcome<Label>[];
}

export function computeMetrics<Label extends string>(labels: readonly Label[], outcomes: readonly Outcome<Label>[]): Metrics<Label> {
  const index = new Map(labels.map((label, i) => [label, i]));
  const confusion = labels.map(() => labels.map(() => 0));
  for (const { expected, predicted } of outcomes) {
    const row = index.get(expected);
    const column = index.get(predicted);
    if (row === undefined || column === undefined) throw new Error(`"${row === undefined ? expected : predicted}" is not one of ${labels.join(', ')}`);
    confusion[row][column]++;
  }
  const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
  const perClass = Object.fromEntries(
    labels.map((label, i) => {
      const predictedAs = confusion.reduce((sum, row) => sum + row[i], 0);
      const support = confusion[i].reduce((a, b) => a + b, 0);
      return [label, { precision: ratio(confusion[i][i], predictedAs), recall: ratio(confusion[i][i], support), support }];
    }),
  ) as Record<Label, ClassScores>;
  const correct = labels.reduce((sum, _, i) => sum + confusion[i][i], 0);
  return {
    labels,
    total: outcomes.length,
    correct,
    accuracy: ratio(correct, outcomes.length),
    perClass,
    confusion,
    wrong: outcomes.filter((o) => o.expected !== o.predicted),
  };
}

const percent = (value: number | null) => (value === null ? 'n/a' : `${(value * 100).toFixed(1)} %`);
const pad = (text: string, width: number) => text.padEnd(width);

/** The report as text: accuracy, precision and recall per class, the confusion matrix, the wrong examples. */
export function formatMetrics<Label extends string>(title: string, metrics: Metrics<Label>, maxWrong = 20): string {
  const width = Math.max(10, ...metrics.labels.map((l) => l.length + 2));
  const lines = [`${title}: accuracy ${metrics.correct}/${metrics.total} = ${percent(metrics.accuracy)}`, ''];
  lines.push(`${pad('class', width)}${pad('precision', 11)}${pad('recall', 9)}support`);
  for (const label of metrics.labels) {
    const s = metrics.perClass[label];
    lines.push(`${pad(label, width)}${pad(percent(s.precision), 11)}${pad(percent(s.recall), 9)}${s.support}`);
  }
  lines.push('', `confusion (rows: expected, columns: predicted)`, `${pad('', width)}${metrics.labels.map((l) => pad(l, width)).join('')}`);
  metrics.labels.forEach((label, i) => lines.push(`${pad(label, width)}${metrics.confusion[i].map((n) => pad(String(n), width)).join('')}`));
  if (metrics.wrong.length > 0) {
    lines.push('', `wrong (${metrics.wrong.length}${metrics.wrong.length > maxWrong ? `, first ${maxWrong}` : ''}):`);
    for (const w of metrics.wrong.slice(0, maxWrong)) {
      lines.push(`  expected ${w.expected}, got ${w.predicted}${w.detail ? ` (${w.detail})` : ''}: ${JSON.stringify(w.text.length > 100 ? `${w.text.slice(0, 100)}…` : w.text)}`);
    }
  }
  return lines.join('\n');
}
