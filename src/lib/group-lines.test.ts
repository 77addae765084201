import { describe, expect, it } from 'vitest';
import { indexedLinesOf, linesToFold } from './group-lines';
import type { Message, Participant } from './store/types';

const T = Date.UTC(2026, 0, 1);
const alice: Participant = { id: 'p1', name: 'Alice' };
const messages: Message[] = ['one', 'two', 'three', 'four', 'five', 'six'].map((text, i) => ({
  id: `m${i + 1}`,
  conversationId: 'g1',
  role: 'user',
  text,
  speaker: alice,
  createdAt: T + i,
  updatedAt: T + i,
}));
const indexed = indexedLinesOf(messages.slice(0, 5), [alice], 'Chatbot');
const texts = (lines: { text: string }[]) => lines.map((l) => l.text);

describe('linesToFold: the lines a group reply left out that the summary does not hold yet', () => {
  it('are the lines before the ones the prompt used', () => {
    expect(texts(linesToFold(indexed, 2, messages, undefined))).toEqual(['one', 'two', 'three']);
    expect(texts(linesToFold(indexed, 2, messages, 'm1'))).toEqual(['one', 'two', 'three']);
  });

  it('leave out what a summary saved after the reply read its lines already folded', () => {
    // The reply read m1–m5 from the memory's start at m1; meanwhile a fold of m1–m2 was saved (start m3).
    expect(texts(linesToFold(indexed, 2, messages, 'm3'))).toEqual(['three']);
    expect(linesToFold(indexed, 2, messages, 'm4')).toEqual([]);
    expect(linesToFold(indexed, 2, messages, 'm6')).toEqual([]);
  });

  it('are none when the prompt used every line', () => {
    expect(linesToFold(indexed, 5, messages, undefined)).toEqual([]);
    expect(linesToFold(indexed, 9, messages, undefined)).toEqual([]);
  });

  it('go from the beginning when the message the memory started at was deleted', () => {
    expect(texts(linesToFold(indexed, 3, messages, 'gone'))).toEqual(['one', 'two']);
  });
});
