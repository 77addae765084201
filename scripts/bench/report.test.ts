import { describe, expect, it } from 'vitest';
import { barChartSvg, headlineTable, median, ratio, tokensPerSecond } from './report';

describe('bench statistics', () => {
  it('takes the median of odd and even counts', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([393.4, 393.5])).toBe(393.45);
    expect(median([])).toBeNaN();
  });

  it('gives no ratio when a side is missing or zero', () => {
    expect(ratio(3, 4)).toBe(0.75);
    expect(ratio(2, 3)).toBe(0.667);
    expect(ratio(undefined, 4)).toBeNull();
    expect(ratio(3, 0)).toBeNull();
  });

  it('counts intervals between tokens, not tokens', () => {
    expect(tokensPerSecond(101, 1000)).toBe(100);
    expect(tokensPerSecond(1, 1000)).toBe(0);
    expect(tokensPerSecond(10, 0)).toBe(0);
  });
});

describe('bench report', () => {
  it('marks targets met and missed, and figures that could not be measured', () => {
    const table = headlineTable([
      { figure: 'Pipeline', ratio: 0.97, target: '≥ 0.95', met: true, raw: 'UI 97 tok/s | bare 100 tok/s' },
      { figure: 'Prefill', ratio: null, target: '', raw: 'no counts' },
      { figure: 'Native', ratio: 0.5, target: '≥ 0.6', met: false, raw: 'x' },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toBe('| Figure | Ratio | Target | Raw numbers |');
    expect(lines[2]).toBe('| Pipeline | 0.97 | ≥ 0.95 ✓ | UI 97 tok/s \\| bare 100 tok/s |');
    expect(lines[3]).toBe('| Prefill | unavailable | reported | no counts |');
    expect(lines[4]).toContain('≥ 0.6 ✗');
  });

  it('draws bars in proportion to their values and escapes labels', () => {
    const svg = barChartSvg('Tokens <per> second', 'tok/s', [
      { label: 'UI & worker', value: 50 },
      { label: 'bare', value: 100 },
    ]);
    const widths = [...svg.matchAll(/<rect x="300" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toEqual([180, 360]);
    expect(svg).toContain('UI &#38; worker');
    expect(svg).toContain('<title>Tokens &#60;per&#62; second</title>');
    expect(svg).not.toMatch(/<per>|& /);
  });
});
