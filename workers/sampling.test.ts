import { describe, expect, it } from 'vitest';
import { applyRepetitionPenalty, sampleToken, seededRandom } from './sampling';

const GREEDY = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };

describe('applyRepetitionPenalty', () => {
  it('pushes each generated token away from likely, once however often it occurred', () => {
    const logits = Float32Array.from([2, -2, 1, 4]);
    applyRepetitionPenalty(logits, [0, 0, 1], 2);
    expect([...logits]).toEqual([1, -4, 1, 4]);
  });
});

describe('sampleToken', () => {
  it('is greedy at temperature 0, after the penalty on generated tokens', () => {
    expect(sampleToken(Float32Array.from([1, 3, 2]), [], GREEDY, Math.random)).toBe(1);
    expect(sampleToken(Float32Array.from([1, 3, 2]), [1], { ...GREEDY, repetitionPenalty: 2 }, Math.random)).toBe(2);
  });

  it('samples only among the top k', () => {
    const random = seededRandom(1);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(sampleToken(Float32Array.from([0, 5, 4.9, 4.8, 0]), [], { ...GREEDY, temperature: 1, topK: 2 }, random));
    expect([...seen].sort()).toEqual([1, 2]);
  });

  it('samples only from the smallest head whose probability reaches top p', () => {
    const random = seededRandom(2);
    // Probabilities about 0.64, 0.24, 0.09, 0.03.
    const logits = () => Float32Array.from([3, 2, 1, 0]);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(sampleToken(logits(), [], { ...GREEDY, temperature: 1, topP: 0.8 }, random));
    expect([...seen].sort()).toEqual([0, 1]);
    for (let i = 0; i < 50; i++) expect(sampleToken(logits(), [], { ...GREEDY, temperature: 1, topP: 0.5 }, random)).toBe(0);
  });

  it('follows the distribution, and a seed reproduces the draws', () => {
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 2000 }, () => sampleToken(Float32Array.from([Math.log(3), 0]), [], { ...GREEDY, temperature: 1 }, random));
    };
    const draws = draw(3);
    expect(draws.filter((t) => t === 0).length / draws.length).toBeCloseTo(0.75, 1);
    expect(draw(3)).toEqual(draws);
    expect(draw(4)).not.toEqual(draws);
  });
});
