import { describe, expect, it } from 'vitest';
import replyTemplate from '../prompts/reply.txt?raw';
import { buildReplyPrompt, fillTemplate, formatHistory, PromptTooLongError } from './prompt';
import type { Turn } from './protocol';

const countWords = (text: string) => text.split(/\s+/).filter(Boolean).length;
const turns: Turn[] = [
  { user: 'My order is late', assistant: 'Sorry to hear that. What is the order number?' },
  { user: '12345', assistant: 'Thanks, it ships tomorrow.' },
];

describe('fillTemplate', () => {
  it('substitutes in one pass, so values are never read as placeholders', () => {
    expect(fillTemplate('A {{x}} B {{y}}', { x: '{{y}}', y: 'why' })).toBe('A {{y}} B why');
  });

  it('refuses a placeholder it has no value for', () => {
    expect(() => fillTemplate('{{nope}}', {})).toThrow(/nope/);
  });
});

describe('buildReplyPrompt', () => {
  const base = { template: replyTemplate, instructions: 'Be kind.', message: 'Where is it now?', countTokens: countWords };

  it("lays out the seed bot's prompt: preamble, history, then this turn's instructions and message", () => {
    const { prompt, turnsUsed } = buildReplyPrompt({ ...base, history: turns, budget: 1000 });
    expect(turnsUsed).toBe(2);
    expect(prompt).toBe(
      'You are a chatbot having a conversation with a human. Follow the given instructions to reply to the Human message below.\n\n' +
        'Human: My order is late\nChatbot: Sorry to hear that. What is the order number?\n' +
        'Human: 12345\nChatbot: Thanks, it ships tomorrow.\n' +
        'Instructions: Be kind.\nHuman: Where is it now?\nChatbot:\n',
    );
  });

  it('keeps what stays the same from turn to turn as a shared prefix', () => {
    const first = buildReplyPrompt({ ...base, history: turns.slice(0, 1), instructions: 'Be kind.', budget: 1000 });
    const second = buildReplyPrompt({ ...base, history: turns, instructions: 'Be funny.', budget: 1000 });
    const sharedUpTo = first.prompt.indexOf('Instructions:');
    expect(second.prompt.startsWith(first.prompt.slice(0, sharedUpTo))).toBe(true);
  });

  it('drops the oldest turns first to fit the budget', () => {
    const full = buildReplyPrompt({ ...base, history: turns, budget: 1000 });
    const { prompt, turnsUsed, tokens } = buildReplyPrompt({ ...base, history: turns, budget: full.tokens - 1 });
    expect(turnsUsed).toBe(1);
    expect(prompt).toContain('Human: 12345');
    expect(prompt).not.toContain('My order is late');
    expect(tokens).toBeLessThanOrEqual(full.tokens - 1);
  });

  it('keeps as many turns as fit, for any budget', () => {
    const history = Array.from({ length: 30 }, (_, i) => ({ user: `question ${i} `.repeat(i % 5 + 1), assistant: `answer ${i}` }));
    for (let budget = 40; budget < 400; budget += 7) {
      const result = buildReplyPrompt({ ...base, history, budget });
      expect(result.tokens).toBeLessThanOrEqual(budget);
      if (result.turnsUsed < history.length) {
        const oneMore = buildReplyPrompt({ ...base, history: history.slice(-(result.turnsUsed + 1)), budget: 10_000 });
        expect(oneMore.tokens).toBeGreaterThan(budget);
      }
    }
  });

  it('refuses a message that cannot fit even without history, saying how long it is', () => {
    const message = 'word '.repeat(500);
    expect(() => buildReplyPrompt({ ...base, message, history: turns, budget: 100 })).toThrow(PromptTooLongError);
    expect(() => buildReplyPrompt({ ...base, message, history: [], budget: 100 })).toThrow(/needs \d+ tokens, but only 100 fit/);
  });
});

describe('formatHistory', () => {
  it('writes one Human and one Chatbot line per turn', () => {
    expect(formatHistory([{ user: ' hi ', assistant: ' hello ' }])).toBe('Human: hi\nChatbot: hello\n');
  });
});
