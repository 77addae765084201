import { CHAT_TEMPLATES } from '../prompts';
import { neutralize, PROMPT_LABELS } from './neutralize';
import { cleanerFor, PLAIN_FORMAT, renderChat, type ChatFormat, type ChatMessage, type PromptFormat } from './prompt-format';
import { foldName } from './speaker-fold';
import type { Persona, Turn } from './protocol';

export const HUMAN = 'Human';

/**
 * Replaces `{{name}}` placeholders in one pass, so text substituted in (a user's message, say)
 * is never itself scanned for placeholders.
 */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`Prompt template uses {{${name}}}, which has no value`);
    return value;
  });
}

/**
 * The chatbot's speaker name: the persona's, reduced to what can stand before a colon on one line.
 * A name that is invisible, or looks like one of the prompt's own labels (a persona called `Human`
 * would speak the user's lines), falls back to `Chatbot`.
 */
export function speakerName(persona: Persona): string {
  const name = persona.name.replace(/\p{Default_Ignorable_Code_Point}/gu, '').replace(/[\s:\uFF1A]+/g, ' ').trim();
  const folded = foldName(name).toLowerCase();
  return !folded || PROMPT_LABELS.some((label) => label.toLowerCase() === folded) ? 'Chatbot' : name;
}

/** Turns as transcript lines; in a chat format (a transcript to summarize) its markers are neutralised too. */
export function formatHistory(turns: readonly Turn[], bot = 'Chatbot', format: PromptFormat = PLAIN_FORMAT): string {
  const clean = cleanerFor(format, (text) => neutralize(text.trim(), [bot]));
  const name = cleanerFor(format, (text) => text)(bot);
  return turns.map((t) => `${HUMAN}: ${clean(t.user)}\n${name}: ${clean(t.assistant)}\n`).join('');
}

export class PromptTooLongError extends Error {
  constructor(
    readonly tokens: number,
    readonly budget: number,
  ) {
    super(
      `This message is too long for the model: the prompt needs ${tokens} tokens, ` +
        `but only ${budget} fit in the context window next to room for the reply. Shorten it and try again.`,
    );
    this.name = 'PromptTooLongError';
  }
}

export interface ReplyPromptInput {
  /** The plain format's template; a chat format renders `CHAT_TEMPLATES.reply` instead. */
  template: string;
  /** Plain when absent. */
  format?: PromptFormat;
  instructions: string;
  history: readonly Turn[];
  message: string;
  persona?: Persona;
  /** The running summary of turns older than `history`. */
  summary?: string;
  countTokens: (text: string) => number;
  /** Tokens the prompt may use: the context window less the room kept for the reply. */
  budget: number;
}

export interface ReplyPrompt {
  prompt: string;
  tokens: number;
  /** How many of the most recent turns made it into the prompt. */
  turnsUsed: number;
  summarized: boolean;
  /** How many of the oldest turns the summary should now take in: those left out, or a chunk to make room. */
  foldTurns: number;
}

/**
 * Builds the reply prompt with as many recent turns as fit the token budget. The template keeps
 * the preamble, summary and history first and this turn's instructions and message last, so
 * consecutive turns share a prefix. Everything from the conversation is neutralized first.
 */
export function buildReplyPrompt(input: ReplyPromptInput): ReplyPrompt {
  const persona = input.persona ?? { name: 'Chatbot', description: '' };
  const bot = speakerName(persona);
  const format = input.format ?? PLAIN_FORMAT;
  const render = format.kind === 'chat' ? chatReplyRenderer(input, format, persona, bot) : (turns: readonly Turn[], summary: string | undefined) =>
    fillTemplate(input.template, {
      persona: persona.description.trim() ? `\n${neutralize(persona.description.trim(), [bot])}` : '',
      summary: summary?.trim() ? `Summary of the earlier conversation: ${neutralize(summary.trim(), [bot])}\n` : '',
      history: formatHistory(turns, bot),
      // The user's own words, but also an imported file's: a colon mid-line stays, a line that
      // starts like a turn (`Human:`, the bot's name) does not.
      instructions: neutralize(input.instructions.trim(), [bot]),
      message: neutralize(input.message.trim(), [bot]),
      bot,
    });
  // The summary stands in for the oldest turns; only when even the message alone does not fit
  // beside it is it left out.
  return fitHistory(input, (turns) => render(turns, input.summary), Boolean(input.summary?.trim())) ??
    fitHistory(input, (turns) => render(turns, undefined), false) ??
    (() => {
      throw new PromptTooLongError(input.countTokens(render([], undefined)), input.budget);
    })();
}

/**
 * The reply prompt as messages: the system message (who the bot is, the persona, the summary), each
 * earlier turn as a user and an assistant message, and last this turn's instructions and message.
 * The history part is the same from one turn to the next, so the KV cache keeps serving it.
 */
function chatReplyRenderer(input: ReplyPromptInput, format: ChatFormat, persona: Persona, bot: string) {
  const clean = cleanerFor(format, (text) => neutralize(text.trim(), [bot]));
  const template = CHAT_TEMPLATES.reply;
  return (turns: readonly Turn[], summary: string | undefined) =>
    renderChat(format, [
      {
        role: 'system',
        content: fillTemplate(template.system, {
          bot: clean(bot),
          persona: persona.description.trim() ? `\n\n${clean(persona.description)}` : '',
          summary: summary?.trim() ? `\n\nSummary of the earlier conversation: ${clean(summary)}` : '',
        }),
      },
      ...chatTurns(turns, clean),
      { role: 'user', content: fillTemplate(template.user, { instructions: clean(input.instructions), message: clean(input.message) }) },
    ]);
}

/** Earlier turns as the user's and the assistant's messages. */
export function chatTurns(turns: readonly Turn[], clean: (text: string) => string): ChatMessage[] {
  return turns.flatMap((turn): ChatMessage[] => [
    { role: 'user', content: clean(turn.user) },
    { role: 'assistant', content: clean(turn.assistant) },
  ]);
}

/**
 * Old turns are folded into the summary as one chunk, not one turn at a time: once the prompt
 * passes FOLD_TRIGGER of its budget, the oldest turns are marked for folding until the rest fits
 * in FOLD_TARGET. The prompt's start, and with it the KV cache, then stays the same for the several
 * turns it takes to fill that room again, rather than sliding every turn.
 */
export const FOLD_TRIGGER = 0.8;
export const FOLD_TARGET = 0.5;

/**
 * All the turns when they fit. When they do not (the summary is behind: an import, an interrupted
 * fold), the most recent ones that fit FOLD_TARGET, so the prompt does not slide while it catches up.
 */
function fitHistory(input: ReplyPromptInput, render: (turns: readonly Turn[]) => string, summarized: boolean): ReplyPrompt | null {
  const all = input.history.length;
  const target = Math.floor(input.budget * FOLD_TARGET);
  const whole = render(input.history);
  const tokens = input.countTokens(whole);
  if (tokens <= input.budget) {
    const foldTurns = tokens > input.budget * FOLD_TRIGGER ? all - (fitTurns(input, render, summarized, target)?.turnsUsed ?? 0) : 0;
    return { prompt: whole, tokens, turnsUsed: all, summarized, foldTurns };
  }
  const kept = fitTurns(input, render, summarized, target) ?? fitTurns(input, render, summarized, input.budget);
  return kept && { ...kept, foldTurns: all - kept.turnsUsed };
}

/** The prompt with the most recent turns that fit `budget`, or null when not even none do. */
function fitTurns(input: ReplyPromptInput, render: (turns: readonly Turn[]) => string, summarized: boolean, budget: number): ReplyPrompt | null {
  // Token counts are not additive across turn boundaries, so count whole prompts; a binary
  // search over how many turns to keep makes that O(log n) tokenizations instead of O(n).
  const all = input.history.length;
  let lo = 0;
  let hi = all;
  let best: ReplyPrompt | null = null;
  while (lo <= hi) {
    const keep = (lo + hi) >> 1;
    const prompt = render(input.history.slice(all - keep));
    const tokens = input.countTokens(prompt);
    if (tokens <= budget) {
      best = { prompt, tokens, turnsUsed: keep, summarized, foldTurns: all - keep };
      lo = keep + 1;
    } else {
      hi = keep - 1;
    }
  }
  return best;
}
