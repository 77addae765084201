import { describe, expect, it } from 'vitest';
import { buildClassifyPrompt, classifyMessage, reply, summarize } from './chat';
import { DEFAULT_PERSONA, defaultChatSettings } from './defaults';
import type { Engine, GenerationEnd, GenerationParams } from './engine';
import { FOLD_STEP_TURNS } from './prompt';
import { PLAIN_FORMAT, type PromptFormat } from './prompt-format';
import type { Turn } from './protocol';

/** The worst case of a byte-level BPE such as phi-2's: one token per UTF-8 byte (a CJK character is three). */
const byteTokens = (text: string) => new TextEncoder().encode(text).length;
const cjk = (n: number) => Array.from({ length: n }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 37) % 2000))).join('');

/** An engine that records what it is asked and how much it tokenizes, and writes a fixed text one token at a time. */
class CountingEngine implements Engine<never> {
  counted = 0;
  countedChars = 0;
  prompts: string[] = [];
  tokensWritten = 0;
  constructor(private readonly format: PromptFormat = PLAIN_FORMAT) {}
  promptFormat() {
    return this.format;
  }
  async load(): Promise<never> {
    throw new Error('not used');
  }
  countTokens(text: string) {
    this.counted++;
    this.countedChars += text.length;
    return byteTokens(text);
  }
  async scoreContinuations(prompt: string) {
    this.prompts.push(prompt);
    return [0, -1, -2];
  }
  async generate(prompt: string, params: GenerationParams, onText: (text: string) => boolean, signal: AbortSignal): Promise<GenerationEnd> {
    this.prompts.push(prompt);
    for (let i = 0; i < params.maxNewTokens; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (signal.aborted) return 'stopped';
      this.tokensWritten++;
      if (!onText(' word')) return 'stopped';
    }
    return 'length';
  }
  async unload() {}
}

describe('the classification prompt', () => {
  it('fits the window with long CJK context and a short message: the context is cut first', async () => {
    const engine = new CountingEngine();
    const previous: Turn = { user: cjk(400), assistant: cjk(400) };
    await classifyMessage(engine, 'hi', previous, 'Chatbot', 1024);
    const [prompt] = engine.prompts;
    expect(byteTokens(prompt!) + 1).toBeLessThanOrEqual(1024);
    expect(prompt).toContain('Message: hi\nOutput: The category is');
    // Some of the context stays: only as much is cut as the window needs.
    expect(prompt).toContain('Earlier, the person said: 一');
  });

  it('cuts the start of a message that fits the reply prompt but not the classification prompt, after the context', () => {
    const message = `${cjk(300)} the end of the question`;
    const previous: Turn = { user: cjk(400), assistant: cjk(400) };
    const prompt = buildClassifyPrompt(message, previous, 'Chatbot', byteTokens, 900);
    expect(byteTokens(prompt)).toBeLessThanOrEqual(900);
    expect(prompt).not.toContain('Earlier, the person said');
    expect(prompt).toContain(' the end of the question\nOutput: The category is');
    expect(prompt).not.toContain(`Message: ${cjk(1)}`);
    // The cut keeps as much of the message as fits.
    expect(byteTokens(prompt)).toBeGreaterThan(900 - 3);
  });

  it('leaves a prompt that fits as it is', () => {
    const previous: Turn = { user: 'my order', assistant: 'which one?' };
    expect(buildClassifyPrompt('the blue one', previous, 'Chatbot', byteTokens, 1024)).toContain('Earlier, the person said: my order\nThe reply was: which one?\nMessage: the blue one');
  });

  it('is fitted in a reply too, on a 1k window with the previous turn as context', async () => {
    const engine = new CountingEngine();
    const settings = { ...defaultChatSettings(), classifyWithPreviousTurn: true };
    settings.generation.maxNewTokens = 16;
    const history = [{ user: cjk(400), assistant: cjk(400) }];
    await reply(engine, { history, message: 'hi', settings, intent: 'auto' }, 1024, { onIntent() {}, onPrompt() {}, onText() {} }, new AbortController().signal);
    expect(byteTokens(engine.prompts[0]!) + 1).toBeLessThanOrEqual(1024);
  });
});

describe('summarize', () => {
  const longHistory = Array.from({ length: 2500 }, (_, i) => ({ user: `question ${i} about my order`, assistant: `answer ${i}` }));

  it('folds a bounded step of the oldest turns, whatever the length of the history', async () => {
    const engine = new CountingEngine();
    const step = await summarize(engine, { turns: longHistory, persona: DEFAULT_PERSONA }, 2048, new AbortController().signal);
    expect(step.folded).toBe(FOLD_STEP_TURNS);
    expect(step.text).toMatch(/word/);
    const prompt = engine.prompts[0]!;
    expect(prompt).toContain('question 0 about my order');
    expect(prompt).toContain(`question ${FOLD_STEP_TURNS - 1} about`);
    expect(prompt).not.toContain(`question ${FOLD_STEP_TURNS} about`);
    // A step tokenizes a few prompts of its own size, never the whole history.
    expect(engine.counted).toBeLessThanOrEqual(FOLD_STEP_TURNS + 2);
    expect(engine.countedChars).toBeLessThan(20 * prompt.length);
  });

  it('folds fewer turns when they do not fit, and shortens one that alone is too long', async () => {
    const engine = new CountingEngine();
    const turns = [{ user: cjk(500), assistant: cjk(500) }, ...longHistory];
    const step = await summarize(engine, { turns, summary: cjk(5000), persona: DEFAULT_PERSONA }, 2048, new AbortController().signal);
    expect(step.folded).toBe(1);
    expect(byteTokens(engine.prompts[0]!)).toBeLessThanOrEqual(2048 - 120);
  });

  it('stops within one token when its signal aborts', async () => {
    const engine = new CountingEngine();
    const controller = new AbortController();
    const running = summarize(engine, { turns: longHistory, persona: DEFAULT_PERSONA }, 2048, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const written = engine.tokensWritten;
    await running;
    expect(engine.tokensWritten - written).toBeLessThanOrEqual(1);
    expect(engine.tokensWritten).toBeLessThan(120);
  });
});
