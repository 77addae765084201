import { CHAT_TEMPLATES, TEMPLATES } from '../prompts';
import type { Engine, RequestOptions } from './engine';
import { classify, LABEL_CONTINUATIONS } from './labels';
import { neutralize } from './neutralize';
import { buildReplyPrompt, fillTemplate, formatHistory, HUMAN, speakerName } from './prompt';
import { cleanerFor, formatLabel, PLAIN_FORMAT, renderChat, stopFilterFor, type PromptFormat } from './prompt-format';
import { FOLD_STEP_TURNS, INTENTS, type ChatRequest, type Classification, type PrefillCount, type PromptInfo, type ReplyStats, type StopReason, type SummarizeRequest, type Turn } from './protocol';
import type { StopSequenceFilter } from './stop-sequences';

/** The previous turn as context for the classifier, kept short: it only disambiguates. */
const CONTEXT_CHARS = 400;

/** The classify template's own line labels, beyond the speakers: a message must not start one. */
const CLASSIFY_LABELS = ['Message', ...INTENTS];

/** The last `count` code points of `text`, so a cut never splits a character. */
const lastChars = (text: string, count: number) => Array.from(text).slice(-count).join('');

/**
 * The classification prompt, fitted to `budget` tokens: the previous turn's context is shortened
 * first, then left out, and only then is the start of the message cut (its end is what the person
 * is asking now).
 */
export function buildClassifyPrompt(
  message: string,
  previous: Turn | undefined,
  bot: string,
  countTokens: (text: string) => number,
  budget: number,
  format: PromptFormat = PLAIN_FORMAT,
): string {
  const clean = cleanerFor(format, (text) => neutralize(text, [bot, ...CLASSIFY_LABELS]));
  const clip = (text: string, chars: number) => clean(Array.from(text.trim()).slice(0, chars).join(''));
  const values = (contextChars: number, messageChars: number) => ({
    context: previous && contextChars > 0 ? `Earlier, the person said: ${clip(previous.user, contextChars)}\nThe reply was: ${clip(previous.assistant, contextChars)}\n` : '',
    message: clean(lastChars(message.trim(), messageChars)),
  });
  // A chat model is asked in its own template, and its answer is started for it: the labels are
  // scored as the words that follow.
  const template = CHAT_TEMPLATES.classify;
  const render = (contextChars: number, messageChars: number) =>
    format.kind === 'chat'
      ? renderChat(format, [{ role: 'system', content: template.system }, { role: 'user', content: fillTemplate(template.user, values(contextChars, messageChars)) }], template.answer)
      : fillTemplate(TEMPLATES.classify, values(contextChars, messageChars));
  const length = Array.from(message.trim()).length;
  const fits = (prompt: string) => countTokens(prompt) <= budget;
  const full = render(CONTEXT_CHARS, length);
  if (fits(full)) return full;
  // The longest that fits, by binary search: a prompt only grows with what it keeps.
  const longest = (limit: number, fitsWith: (n: number) => boolean) => {
    let lo = 0;
    let hi = limit;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fitsWith(mid)) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  if (previous && fits(render(0, length))) return render(longest(CONTEXT_CHARS, (n) => fits(render(n, length))), length);
  return render(0, longest(length, (n) => fits(render(0, n))));
}

export async function classifyMessage(
  engine: Engine<never>,
  message: string,
  previous: Turn | undefined,
  bot: string,
  contextSize: number,
  options?: RequestOptions,
): Promise<Classification> {
  const continuations = INTENTS.map((intent) => LABEL_CONTINUATIONS[intent]);
  // Each label is scored after the prompt, so the longest of them must fit beside it.
  const labelTokens = Math.max(...continuations.map((text) => engine.countTokens(text)));
  const prompt = buildClassifyPrompt(message, previous, bot, (text) => engine.countTokens(text), contextSize - labelTokens, engine.promptFormat());
  const scores = await engine.scoreContinuations(prompt, continuations, options);
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

/** What Details shows about the prompt's format: a chat template's name, or why a model's template was not used. */
export function promptFormatInfo(format: PromptFormat): Pick<PromptInfo, 'format' | 'note'> {
  return { format: formatLabel(format), ...(format.kind === 'plain' && format.note ? { note: format.note } : {}) };
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
  const format = engine.promptFormat();
  // Room for the reply is capped at half the window, so no setting can leave no room for a prompt.
  const maxNewTokens = Math.max(1, Math.min(settings.generation.maxNewTokens, Math.floor(contextSize / 2)));
  const base = { template: TEMPLATES.reply, format, message: request.message, persona: settings.persona, countTokens, budget: contextSize - maxNewTokens };
  // Refuse an over-long message before spending a forward pass on classifying it.
  buildReplyPrompt({ ...base, history: [], instructions: settings.instructions.general });

  const started = performance.now();
  let classifyPrefill: PrefillCount | undefined;
  let replyPrefill: PrefillCount | undefined;
  let classification: Classification;
  if (request.continuation) {
    classification = { probabilities: { support: 0, sales: 0, joke: 0 }, route: request.continuation.route, overridden: true };
  } else {
    classification = await classifyMessage(engine, request.message, settings.classifyWithPreviousTurn ? request.history.at(-1) : undefined, bot, contextSize, {
      onPrefill: (count) => (classifyPrefill = count),
    });
    if (request.intent !== 'auto') classification = { ...classification, route: request.intent, overridden: true };
    events.onIntent(classification);
  }
  const classifyMs = performance.now() - started;
  const empty = { promptTokens: 0, replyTokens: 0, classifyMs, firstTokenMs: 0, prefillTokensPerSecond: 0, decodeTokensPerSecond: 0, ...(classifyPrefill ? { classifyPrefill } : {}) };
  if (signal.aborted) return { stopReason: 'aborted', stats: empty };

  const built = buildReplyPrompt({
    ...base,
    history: request.history,
    summary: request.summary,
    instructions: settings.instructions[classification.route],
  });
  // A continuation extends the reply's own text; the budget still holds because the reply so far
  // took tokens from the same room the limit gave it.
  // In a chat template the reply so far is the start of the assistant's answer.
  const sofar = request.continuation?.text ?? '';
  const cleanSofar = () => cleanerFor(format, (text) => neutralize(text.trim(), [bot]))(sofar);
  const prompt = !sofar ? built.prompt : format.kind === 'chat' ? built.prompt + cleanSofar() : `${built.prompt} ${cleanSofar()}`;
  const promptTokens = sofar ? countTokens(prompt) : built.tokens;
  events.onPrompt({
    text: prompt,
    tokens: promptTokens,
    turnsUsed: built.turnsUsed,
    summarized: built.summarized,
    foldTurns: built.foldTurns,
    ...promptFormatInfo(format),
  });

  // A continuation's first words follow its text so far, after a space.
  let shown = false;
  const { stopReason, timing } = await streamReply(
    engine,
    { text: prompt, tokens: promptTokens },
    { ...settings.generation, maxNewTokens },
    // A chat model's reply may have lines like `Note:`; only the two speakers' lines end it.
    stopFilterFor(format, format.kind === 'chat' ? [HUMAN, bot] : [bot], { anySpeaker: false }),
    (visible) => {
      events.onText(sofar && !shown ? ` ${visible}` : visible);
      shown = true;
    },
    signal,
    { onPrefill: (count) => (replyPrefill = count) },
  );
  const stats: ReplyStats = {
    ...timing,
    classifyMs: Math.round(classifyMs),
    ...(classifyPrefill ? { classifyPrefill } : {}),
    ...(replyPrefill ? { replyPrefill } : {}),
  };
  return { stopReason, stats };
}

/**
 * Streams the reply to `prompt`, cut where `filter` sees the next speaker, and times it: the first
 * text's delay is the prompt's forward pass, the rest comes one token at a time.
 */
export async function streamReply(
  engine: Engine<never>,
  prompt: { text: string; tokens: number },
  params: ChatRequest['settings']['generation'],
  filter: StopSequenceFilter,
  onText: (visible: string) => void,
  signal: AbortSignal,
  options?: RequestOptions,
): Promise<{ stopReason: StopReason; timing: Omit<ReplyStats, 'classifyMs'> }> {
  const generationStart = performance.now();
  let firstText = 0;
  let text = '';
  const emit = (visible: string) => {
    if (!visible) return;
    if (!firstText) firstText = performance.now();
    text += visible;
    onText(visible);
  };
  const end = await engine.generate(
    prompt.text,
    params,
    (piece) => {
      const { text: visible, stopped } = filter.push(piece);
      emit(visible);
      return !stopped;
    },
    signal,
    options,
  );
  emit(filter.flush());
  const finished = performance.now();
  const replyTokens = text ? engine.countTokens(text) : 0;
  const firstTokenMs = firstText ? firstText - generationStart : 0;
  return {
    stopReason: end === 'stopped' ? (signal.aborted ? 'aborted' : 'end') : end,
    timing: {
      promptTokens: prompt.tokens,
      replyTokens,
      firstTokenMs: Math.round(firstTokenMs),
      prefillTokensPerSecond: perSecond(prompt.tokens, firstTokenMs),
      decodeTokensPerSecond: perSecond(Math.max(0, replyTokens - 1), firstText ? finished - firstText : 0),
    },
  };
}

/** Room the summary may take in the prompt, and so in its own generation. */
export const SUMMARY_TOKENS = 120;

/** Characters of one turn's side, or of the summary so far, that a step reads at most: a token is rarely less than one. */
const charsFor = (tokens: number) => tokens * 4;

export interface SummaryStep {
  text: string;
  /** How many of the request's turns, from the oldest, the summary now takes in (at least one). */
  folded: number;
}

/**
 * One step of folding old turns into the running summary: the summary is written anew from the
 * previous one and the oldest of `request.turns` (at most FOLD_STEP_TURNS, and as many as fit the
 * summarizer's prompt). The caller saves it and sends the rest in later steps.
 */
export async function summarize(engine: Engine<never>, request: Omit<SummarizeRequest, 'id' | 'type'>, contextSize: number, signal: AbortSignal): Promise<SummaryStep> {
  const bot = speakerName(request.persona);
  const budget = contextSize - SUMMARY_TOKENS;
  const clip = (text: string, tokens: number) => Array.from(text.trim()).slice(0, charsFor(tokens)).join('');
  const previous = request.summary?.trim() ? clip(request.summary, SUMMARY_TOKENS * 2) : '';
  const format = engine.promptFormat();
  const clean = cleanerFor(format, (text) => neutralize(text, [bot]));
  const values = (turns: readonly Turn[], summarySoFar: string) => ({
    bot: clean(bot),
    previous: summarySoFar ? `Summary so far: ${clean(summarySoFar)}\n` : '',
    turns: formatHistory(turns, bot, format).trimEnd(),
  });
  const template = CHAT_TEMPLATES.summarize;
  const render = (turns: readonly Turn[], summarySoFar = previous) =>
    format.kind === 'chat'
      ? renderChat(format, [
          { role: 'system', content: fillTemplate(template.system, values(turns, summarySoFar)) },
          { role: 'user', content: fillTemplate(template.user, values(turns, summarySoFar)) },
        ])
      : fillTemplate(TEMPLATES.summarize, values(turns, summarySoFar));
  const turns = request.turns.slice(0, FOLD_STEP_TURNS).map((t) => ({ user: clip(t.user, budget), assistant: clip(t.assistant, budget) }));
  let count = turns.length;
  while (count > 1 && engine.countTokens(render(turns.slice(0, count))) > budget) count--;
  let prompt = render(turns.slice(0, count));
  // A single turn too long to summarize whole (or beside a long summary) is shortened to fit rather than dropped.
  for (let keep = Math.max(turns[0]?.user.length ?? 0, turns[0]?.assistant.length ?? 0, previous.length); keep > 0 && engine.countTokens(prompt) > budget; ) {
    keep = Math.floor(keep * 0.8);
    prompt = render([{ user: turns[0].user.slice(0, keep), assistant: turns[0].assistant.slice(0, keep) }], previous.slice(0, keep));
  }
  return { text: await writeSummary(engine, prompt, stopFilterFor(format, [bot], { anySpeaker: true }), signal), folded: count };
}

/** Writes a summary from its prompt, on one line, ending where `filter` sees a new speaker's line. */
export async function writeSummary(engine: Engine<never>, prompt: string, filter: StopSequenceFilter, signal: AbortSignal): Promise<string> {
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
