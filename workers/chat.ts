import { TEMPLATES } from '../prompts';
import type { Engine } from './engine';
import { classify, LABEL_CONTINUATIONS } from './labels';
import { neutralize } from './neutralize';
import { buildReplyPrompt, fillTemplate, formatHistory, speakerName } from './prompt';
import { INTENTS, type ChatRequest, type Classification, type PromptInfo, type ReplyStats, type StopReason, type SummarizeRequest, type Turn } from './protocol';
import { StopSequenceFilter } from './stop-sequences';

/** The previous turn as context for the classifier, kept short: it only disambiguates. */
const CONTEXT_CHARS = 400;

/** The classify template's own line labels, beyond the speakers: a message must not start one. */
const CLASSIFY_LABELS = ['Message', ...INTENTS];

export async function classifyMessage(engine: Engine<never>, message: string, previous: Turn | undefined, bot: string): Promise<Classification> {
  const clean = (text: string) => neutralize(text, [bot, ...CLASSIFY_LABELS]);
  const clip = (text: string) => clean(text.trim().slice(0, CONTEXT_CHARS));
  const context = previous ? `Earlier, the person said: ${clip(previous.user)}\nThe reply was: ${clip(previous.assistant)}\n` : '';
  const prompt = fillTemplate(TEMPLATES.classify, { context, message: clean(message.trim()) });
  const scores = await engine.scoreContinuations(
    prompt,
    INTENTS.map((intent) => LABEL_CONTINUATIONS[intent]),
  );
  return classify(Object.fromEntries(INTENTS.map((intent, i) => [intent, scores[i]])) as Record<(typeof INTENTS)[number], number>);
}

export interface ReplyEvents {
  onIntent(classification: Classification): void;
  onPrompt(prompt: PromptInfo): void;
  onText(text: string): void;
}

export interface ReplyResult {
  stopReason: StopReason;
  stats: ReplyStats;
}

const perSecond = (tokens: number, ms: number) => (ms > 0 ? Math.round((tokens / ms) * 10_000) / 10 : 0);

/**
 * Classifies the message (or takes the user's choice of intent), then streams a reply with that
 * intent's instructions. A continuation picks up a reply cut at the token limit where it stopped.
 */
export async function reply(
  engine: Engine<never>,
  request: Omit<ChatRequest, 'id' | 'type'>,
  contextSize: number,
  events: ReplyEvents,
  signal: AbortSignal,
): Promise<ReplyResult> {
  const { settings } = request;
  const bot = speakerName(settings.persona);
  const countTokens = (text: string) => engine.countTokens(text);
  // Room for the reply is capped at half the window, so no setting can leave no room for a prompt.
  const maxNewTokens = Math.max(1, Math.min(settings.generation.maxNewTokens, Math.floor(contextSize / 2)));
  const base = { template: TEMPLATES.reply, message: request.message, persona: settings.persona, countTokens, budget: contextSize - maxNewTokens };
  // Refuse an over-long message before spending a forward pass on classifying it.
  buildReplyPrompt({ ...base, history: [], instructions: settings.instructions.general });

  const started = performance.now();
  let classification: Classification;
  if (request.continuation) {
    classification = { probabilities: { support: 0, sales: 0, joke: 0 }, route: request.continuation.route, overridden: true };
  } else {
    classification = await classifyMessage(engine, request.message, settings.classifyWithPreviousTurn ? request.history.at(-1) : undefined, bot);
    if (request.intent !== 'auto') classification = { ...classification, route: request.intent, overridden: true };
    events.onIntent(classification);
  }
  const classifyMs = performance.now() - started;
  const empty = { promptTokens: 0, replyTokens: 0, classifyMs, firstTokenMs: 0, prefillTokensPerSecond: 0, decodeTokensPerSecond: 0 };
  if (signal.aborted) return { stopReason: 'aborted', stats: empty };

  const built = buildReplyPrompt({
    ...base,
    history: request.history,
    summary: request.summary,
    instructions: settings.instructions[classification.route],
  });
  // A continuation extends the reply's own text; the budget still holds because the reply so far
  // took tokens from the same room the limit gave it.
  const sofar = request.continuation?.text ?? '';
  const prompt = sofar ? `${built.prompt} ${neutralize(sofar.trim(), [bot])}` : built.prompt;
  const promptTokens = sofar ? countTokens(prompt) : built.tokens;
  events.onPrompt({ text: prompt, tokens: promptTokens, turnsUsed: built.turnsUsed, summarized: built.summarized });

  const filter = new StopSequenceFilter([bot]);
  const generationStart = performance.now();
  let firstText = 0;
  let text = '';
  const emit = (visible: string) => {
    if (!visible) return;
    if (!firstText) firstText = performance.now();
    text += visible;
    events.onText(sofar && text === visible ? ` ${visible}` : visible);
  };
  const end = await engine.generate(
    prompt,
    { ...settings.generation, maxNewTokens },
    (piece) => {
      const { text: visible, stopped } = filter.push(piece);
      emit(visible);
      return !stopped;
    },
    signal,
  );
  emit(filter.flush());
  const finished = performance.now();
  const replyTokens = text ? countTokens(text) : 0;
  const firstTokenMs = firstText ? firstText - generationStart : 0;
  const stats: ReplyStats = {
    promptTokens,
    replyTokens,
    classifyMs: Math.round(classifyMs),
    firstTokenMs: Math.round(firstTokenMs),
    // The first token's time is the prompt's forward pass; the rest is one token at a time.
    prefillTokensPerSecond: perSecond(promptTokens, firstTokenMs),
    decodeTokensPerSecond: perSecond(Math.max(0, replyTokens - 1), firstText ? finished - firstText : 0),
  };
  const stopReason: StopReason = end === 'stopped' ? (signal.aborted ? 'aborted' : 'end') : end;
  return { stopReason, stats };
}

/** Room the summary may take in the prompt, and so in its own generation. */
export const SUMMARY_TOKENS = 120;

/**
 * Writes the running summary anew from the previous one and the turns that just fell out of the
 * prompt. The oldest of those turns are left out if even they do not fit the summarizer's prompt.
 */
export async function summarize(engine: Engine<never>, request: Omit<SummarizeRequest, 'id' | 'type'>, contextSize: number, signal: AbortSignal): Promise<string> {
  const bot = speakerName(request.persona);
  const render = (turns: readonly Turn[]) =>
    fillTemplate(TEMPLATES.summarize, {
      bot,
      previous: request.summary?.trim() ? `Summary so far: ${neutralize(request.summary.trim(), [bot])}\n` : '',
      turns: formatHistory(turns, bot).trimEnd(),
    });
  const budget = contextSize - SUMMARY_TOKENS;
  let turns = request.turns;
  while (turns.length > 1 && engine.countTokens(render(turns)) > budget) turns = turns.slice(1);
  let prompt = render(turns);
  // A single turn too long to summarize whole is shortened to fit rather than dropped.
  for (let keep = Math.max(turns[0]?.user.length ?? 0, turns[0]?.assistant.length ?? 0); keep > 0 && engine.countTokens(prompt) > budget; ) {
    keep = Math.floor(keep * 0.8);
    prompt = render([{ user: turns[0].user.slice(0, keep), assistant: turns[0].assistant.slice(0, keep) }]);
  }
  const filter = new StopSequenceFilter([bot]);
  let summary = '';
  await engine.generate(
    prompt,
    { maxNewTokens: SUMMARY_TOKENS, temperature: 0.2, topK: 40, topP: 0.9, repetitionPenalty: 1.15 },
    (piece) => {
      const { text, stopped } = filter.push(piece);
      summary += text;
      return !stopped;
    },
    signal,
  );
  summary += filter.flush();
  return summary.replace(/\s+/g, ' ').trim();
}

