/** Pure helpers of `npm run bench`: statistics, the Markdown report and the SVG chart. */

/** The median; of an even count, the mean of the middle two to three decimals (no `393.45000000000005` in a report). */
export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : Math.round(((sorted[mid - 1] + sorted[mid]) / 2) * 1000) / 1000;
};

/** `a ÷ b` to three decimals; null when either side was not measured. */
export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? null : Math.round((a / b) * 1000) / 1000;

/** Tokens per second over a stream: the first token opens it, so n tokens make n − 1 intervals. */
export const tokensPerSecond = (tokens: number, ms: number): number => (ms > 0 && tokens > 1 ? Math.round(((tokens - 1) / ms) * 10_000) / 10 : 0);

/** One headline figure: the ratio, what it divides, and the target it is held to. */
export interface Headline {
  figure: string;
  ratio: number | null;
  /** E.g. "≥ 0.95"; empty when the figure is only reported. */
  target: string;
  met?: boolean;
  /** The raw numbers the ratio is made of, in words. */
  raw: string;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${headers.map(cell).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

export function headlineTable(headlines: readonly Headline[]): string {
  return markdownTable(
    ['Figure', 'Ratio', 'Target', 'Raw numbers'],
    headlines.map((h) => [
      h.figure,
      h.ratio === null ? 'unavailable' : String(h.ratio),
      h.target ? `${h.target}${h.met === undefined ? '' : h.met ? ' ✓' : ' ✗'}` : 'reported',
      h.raw,
    ]),
  );
}

export interface Bar {
  label: string;
  value: number;
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A horizontal bar chart as a standalone SVG: one bar per configuration, its value at its end. */
export function barChartSvg(title: string, unit: string, bars: readonly Bar[]): string {
  const labelWidth = 300;
  const barArea = 360;
  const rowHeight = 28;
  const top = 40;
  const width = labelWidth + barArea + 90;
  const height = top + bars.length * rowHeight + 16;
  const max = Math.max(0, ...bars.map((b) => b.value)) || 1;
  const rows = bars.map((bar, i) => {
    const y = top + i * rowHeight;
    const length = Math.max(0, (bar.value / max) * barArea);
    return [
      `<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${length.toFixed(1)}" height="${rowHeight - 8}" fill="#4f46e5"/>`,
      `<text x="${(labelWidth + length + 6).toFixed(1)}" y="${y + 17}">${escapeXml(`${bar.value} ${unit}`)}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}
