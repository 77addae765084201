import { describe, expect, it } from 'vitest';
import { TEMPLATES } from '../prompts';
import { buildReplyPrompt, fillTemplate, FOLD_TARGET, FOLD_TRIGGER, formatHistory, PromptTooLongError } from './prompt';
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
  const base = { template: TEMPLATES.reply, instructions: 'Be kind.', message: 'Where is it now?', countTokens: countWords };

  it("lays out the seed bot's prompt: preamble, history, then this turn's instructions and message", () => {
    const { prompt, turnsUsed } = buildReplyPrompt({ ...base, history: turns, budget: 1000 });
    expect(turnsUsed).toBe(2);
    expect(prompt).toBe(
      'You are a chatbot having a conversation with a human. Follow the given instructions to reply to the Human message below.\n\n' +
        'Human: My order is late\nChatbot: Sorry to hear that. What is the order number?\n' +
        'Human: 12345\nChatbot: Thanks, it ships tomorrow.\n' +
        'Instructions: Be kind.\nHuman: Where is it now?\nChatbot:',
    );
  });

  it('keeps what stays the same from turn to turn as a shared prefix', () => {
    const first = buildReplyPrompt({ ...base, history: turns.slice(0, 1), instructions: 'Be kind.', budget: 1000 });
    const second = buildReplyPrompt({ ...base, history: turns, instructions: 'Be funny.', budget: 1000 });
    const sharedUpTo = first.prompt.indexOf('Instructions:');
    expect(second.prompt.startsWith(first.prompt.slice(0, sharedUpTo))).toBe(true);
  });

  it('drops the oldest turns first to fit the budget', () => {
    const history = [...turns, ...turns, ...turns, ...turns];
    const full = buildReplyPrompt({ ...base, history, budget: 1000 });
    const { prompt, turnsUsed, tokens } = buildReplyPrompt({ ...base, history, budget: full.tokens - 1 });
    expect(turnsUsed).toBeGreaterThan(0);
    expect(turnsUsed).toBeLessThan(history.length);
    expect(prompt.endsWith(`${formatHistory(history.slice(-turnsUsed))}Instructions: Be kind.\nHuman: Where is it now?\nChatbot:`)).toBe(true);
    expect(tokens).toBeLessThanOrEqual(full.tokens - 1);
  });

  it('keeps every turn while they fit, and marks a chunk of the oldest for folding once they fill most of the budget', () => {
    const history = Array.from({ length: 30 }, (_, i) => ({ user: `question ${i} `.repeat(i % 5 + 1), assistant: `answer ${i}` }));
    for (let budget = 40; budget < 400; budget += 7) {
      for (let end = 1; end <= history.length; end++) {
        const turns = history.slice(0, end);
        const result = buildReplyPrompt({ ...base, history: turns, budget });
        expect(result.tokens).toBeLessThanOrEqual(budget);
        const whole = buildReplyPrompt({ ...base, history: turns, budget: 10_000 });
        if (whole.tokens <= budget * FOLD_TRIGGER) {
          expect(result).toMatchObject({ turnsUsed: end, foldTurns: 0 });
          continue;
        }
        if (whole.tokens <= budget) expect(result.turnsUsed).toBe(end);
        else expect(result.turnsUsed).toBeLessThan(end);
        // What stays after the fold fits the target, and one turn more would not.
        const target = Math.floor(budget * FOLD_TARGET);
        const tokensFrom = (first: number) => buildReplyPrompt({ ...base, history: turns.slice(first), budget: 10_000 }).tokens;
        expect(tokensFrom(result.foldTurns)).toBeLessThanOrEqual(budget);
        if (tokensFrom(end) > target) continue;
        expect(tokensFrom(result.foldTurns)).toBeLessThanOrEqual(target);
        expect(result.foldTurns).toBeGreaterThan(0);
        expect(tokensFrom(result.foldTurns - 1)).toBeGreaterThan(target);
      }
    }
  });

  it('keeps the same first turn while the history grows, until a chunk is folded', () => {
    const history = Array.from({ length: 40 }, (_, i) => ({ user: `question ${i} about the order`, assistant: `answer ${i} with some detail` }));
    const budget = 200;
    let start = 0;
    const starts: number[] = [];
    for (let end = 1; end <= history.length; end++) {
      const { turnsUsed, foldTurns } = buildReplyPrompt({ ...base, history: history.slice(start, end), budget });
      starts.push(end - turnsUsed);
      // As the UI does after the reply: the folded turns go into the summary and leave the history.
      start += foldTurns;
    }
    const changes = starts.filter((s, i) => i > 0 && s !== starts[i - 1]).length;
    // A window sliding by one turn would change its start on nearly every one of the 40 turns.
    expect(changes).toBeGreaterThan(0);
    expect(changes).toBeLessThanOrEqual(Math.ceil(history.length / 4));
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

describe('the token budget', () => {
  // A seeded generator: the same "random" conversations every run.
  function random(seed: number) {
    return () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
  }
  const words = (rand: () => number, n: number) => Array.from({ length: n }, () => ['order', 'refund', 'joke', 'price', 'help', 'x'][Math.floor(rand() * 6)]).join(' ');

  it('never lets prompt plus reply room exceed the window, for random conversations, summaries and settings', () => {
    const rand = random(7);
    for (let trial = 0; trial < 300; trial++) {
      const context = 256 + Math.floor(rand() * 2048);
      const maxNew = 1 + Math.floor(rand() * (context / 2));
      const history = Array.from({ length: Math.floor(rand() * 40) }, () => ({ user: words(rand, Math.floor(rand() * 80)), assistant: words(rand, Math.floor(rand() * 120)) }));
      const input = {
        template: TEMPLATES.reply,
        instructions: words(rand, Math.floor(rand() * 30)),
        history,
        message: words(rand, Math.floor(rand() * 300)),
        summary: rand() < 0.5 ? words(rand, Math.floor(rand() * 100)) : undefined,
        persona: { name: 'Bob', description: words(rand, Math.floor(rand() * 20)) },
        countTokens: countWords,
        budget: context - maxNew,
      };
      try {
        const result = buildReplyPrompt(input);
        expect(result.tokens + maxNew).toBeLessThanOrEqual(context);
        expect(countWords(result.prompt)).toBe(result.tokens);
      } catch (error) {
        // Refused only when the message alone, with no history and no summary, cannot fit.
        expect(error).toBeInstanceOf(PromptTooLongError);
        expect(buildReplyPrompt.bind(null, { ...input, history: [], summary: undefined })).toThrow(PromptTooLongError);
      }
    }
  });

  it('keeps the summary in place of the oldest turns, and drops it only when the message needs the room', () => {
    const history = [{ user: 'one two three', assistant: 'four five' }];
    const withSummary = buildReplyPrompt({ template: TEMPLATES.reply, instructions: 'i', history, message: 'm', summary: 'the order was late', countTokens: countWords, budget: 1000 });
    expect(withSummary.summarized).toBe(true);
    expect(withSummary.prompt).toContain('Summary of the earlier conversation: the order was late\nHuman: one two three');
    const tight = countWords(buildReplyPrompt({ template: TEMPLATES.reply, instructions: 'i', history: [], message: 'm', countTokens: countWords, budget: 1000 }).prompt);
    const squeezed = buildReplyPrompt({ template: TEMPLATES.reply, instructions: 'i', history, message: 'm', summary: 'the order was late', countTokens: countWords, budget: tight });
    expect(squeezed).toMatchObject({ summarized: false, turnsUsed: 0 });
  });
});
