import type { Turn } from './protocol';

export const HUMAN = 'Human';
export const CHATBOT = 'Chatbot';

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

export function formatHistory(turns: readonly Turn[]): string {
  return turns.map((t) => `${HUMAN}: ${t.user.trim()}\n${CHATBOT}: ${t.assistant.trim()}\n`).join('');
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
  template: string;
  instructions: string;
  history: readonly Turn[];
  message: string;
  countTokens: (text: string) => number;
  /** Tokens the prompt may use: the context window less the room kept for the reply. */
  budget: number;
}

export interface ReplyPrompt {
  prompt: string;
  tokens: number;
  /** How many of the most recent turns made it into the prompt. */
  turnsUsed: number;
}

/**
 * Builds the reply prompt with as many recent turns as fit the token budget.
 * The template keeps the preamble and history first and this turn's instructions and message last,
 * so consecutive turns share a prefix.
 */
export function buildReplyPrompt(input: ReplyPromptInput): ReplyPrompt {
  const render = (turns: readonly Turn[]) =>
    fillTemplate(input.template, {
      history: formatHistory(turns),
      instructions: input.instructions.trim(),
      message: input.message.trim(),
    });
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
    if (tokens <= input.budget) {
      best = { prompt, tokens, turnsUsed: keep };
      lo = keep + 1;
    } else {
      hi = keep - 1;
    }
  }
  if (!best) throw new PromptTooLongError(input.countTokens(render([])), input.budget);
  return best;
}
