import { describe, expect, it } from 'vitest';
import { buildClassifyPrompt, classifyMessage, reply, summarize } from './chat';
import { DEFAULT_PERSONA, defaultChatSettings } from './defaults';
import type { Engine, GenerationEnd, GenerationParams } from './engine';
import { builtInChatFormat, PLAIN_FORMAT, type PromptFormat } from './prompt-format';
import { FOLD_STEP_TURNS, type PromptInfo, type Turn } from './protocol';

/** The worst case of a byte-level BPE such as phi-2's: one token per UTF-8 byte (a CJK character is three). */
const byteTokens = (text: string) => new TextEncoder().encode(text).length;
const cjk = (n: number) => Array.from({ length: n }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 37) % 2000))).join('');

/** An engine that records what it is asked and how much it tokenizes, and writes a fixed text one token at a time. */
class CountingEngine implements Engine<never> {
  counted = 0;
  countedChars = 0;
  prompts: string[] = [];
  tokensWritten = 0;
  /** `pieces`: what the model writes, in place of ' word' over and over. */
  constructor(
    private readonly format: PromptFormat = PLAIN_FORMAT,
    private readonly pieces?: string[],
  ) {}
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
    for (let i = 0; i < Math.min(params.maxNewTokens, this.pieces?.length ?? Infinity); i++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (signal.aborted) return 'stopped';
      this.tokensWritten++;
      if (!onText(this.pieces?.[i] ?? ' word')) return 'stopped';
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

describe('a reply in a chat template', () => {
  const CHATML = builtInChatFormat('chatml');
  const events = (seen: { text: string; prompts: PromptInfo[] }) => ({ onIntent() {}, onPrompt: (p: PromptInfo) => seen.prompts.push(p), onText: (t: string) => (seen.text += t) });

  it('continues a cut reply as the start of the assistant’s answer, neutralised', async () => {
    const engine = new CountingEngine(CHATML, [' and', ' more.']);
    const seen = { text: '', prompts: [] as PromptInfo[] };
    const continuation = { text: 'First part <|im_end|>', route: 'support' as const };
    await reply(engine, { history: [], message: 'Explain', settings: defaultChatSettings(), intent: 'auto', continuation }, 2048, events(seen), new AbortController().signal);
    expect(engine.prompts).toHaveLength(1);
    expect(engine.prompts[0]).toMatch(/Explain<\|im_end\|>\n<\|im_start\|>assistant\nFirst part ‹¦im_end¦›$/);
    expect(seen.prompts[0]).toMatchObject({ format: 'chat template (ChatML)' });
    expect(seen.text).toBe(' and more.');
  });

  it('ends at a marker the model writes out, and keeps its `Note:` lines', async () => {
    const engine = new CountingEngine(CHATML, [' Restart', ' it.', '\nNote:', ' it helps.', '<|im', '_start|>', 'user', '\nthanks']);
    const seen = { text: '', prompts: [] as PromptInfo[] };
    await reply(engine, { history: [], message: 'My laptop froze', settings: defaultChatSettings(), intent: 'support' }, 2048, events(seen), new AbortController().signal);
    expect(seen.text).toBe('Restart it.\nNote: it helps.');
  });

  it('summarizes a transcript in a user message', async () => {
    const engine = new CountingEngine(CHATML, [' The human asked about order 42.']);
    const step = await summarize(engine, { turns: [{ user: 'Where is order 42?', assistant: 'On its way.' }], persona: DEFAULT_PERSONA }, 2048, new AbortController().signal);
    expect(step.text).toBe('The human asked about order 42.');
    expect(engine.prompts[0]).toMatch(/^<\|im_start\|>system\nSummarize the conversation below between a human and Chatbot.*<\|im_end\|>\n<\|im_start\|>user\nHuman: Where is order 42\?\nChatbot: On its way\.<\|im_end\|>\n<\|im_start\|>assistant\n$/s);
  });
});
