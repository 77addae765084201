/**
 * A scripted conversation through the app's own chat path (classify, reply, fold old turns into
 * the summary step by step, as the UI does), recording for every turn how many prompt tokens the
 * engine took from its KV cache and how many it ran through the model. Used by the KV-reuse test
 * and by the benchmark.
 */
import { reply, summarize } from '../workers/chat';
import { defaultChatSettings } from '../workers/defaults';
import type { Engine } from '../workers/engine';
import { formatHistory } from '../workers/prompt';
import { FOLD_STEP_TURNS, type PrefillCount, type RouteIntent, type Turn } from '../workers/protocol';

export interface TurnRecord {
  message: string;
  text: string;
  promptTokens: number;
  classify: PrefillCount;
  reply: PrefillCount;
  /** This turn's prompt left turns out, or read a summary the previous turn's did not: its start changed. */
  folded: boolean;
  /** What the reply may run through the model with reuse: the previous turn + message + instructions + 64. */
  bound: number;
}

const WORDS = 'order refund price help please laptop screen delivery account invoice battery plan upgrade warranty store'.split(' ');

/** The user's message at turn `k`: long enough that a dozen turns fill phi-2's window. */
export const scriptedMessage = (k: number, words: number) => Array.from({ length: words }, (_, i) => WORDS[(i * 7 + k * 3) % WORDS.length]).join(' ');

export async function scriptedConversation(
  engine: Engine<never>,
  { turns = 12, words = 60, maxNewTokens = 64, contextSize = 2048 }: { turns?: number; words?: number; maxNewTokens?: number; contextSize?: number } = {},
): Promise<TurnRecord[]> {
  const settings = defaultChatSettings();
  settings.generation = { ...settings.generation, temperature: 0, maxNewTokens };
  const signal = new AbortController().signal;
  const history: Turn[] = [];
  let start = 0;
  let summary: string | undefined;
  let lastSummary: string | undefined;
  const records: TurnRecord[] = [];
  for (let k = 0; k < turns; k++) {
    const message = scriptedMessage(k, words);
    const memory = history.slice(start);
    let text = '';
    let turnsUsed = memory.length;
    let summarized = false;
    let foldTurns = 0;
    let route: RouteIntent = 'general';
    const { stats } = await reply(
      engine,
      { history: memory, summary, message, settings, intent: 'auto' },
      contextSize,
      { onIntent: (c) => (route = c.route), onPrompt: (p) => ((turnsUsed = p.turnsUsed), (summarized = Boolean(p.summarized)), (foldTurns = p.foldTurns ?? 0)), onText: (t) => (text += t) },
      signal,
    );
    const previous = history.at(-1);
    const bound =
      (previous ? engine.countTokens(formatHistory([previous])) : 0) +
      engine.countTokens(message) +
      engine.countTokens(settings.instructions[route]) +
      64;
    const usedSummary = summarized ? summary : undefined;
    records.push({
      message,
      text,
      promptTokens: stats.promptTokens,
      classify: stats.classifyPrefill!,
      reply: stats.replyPrefill!,
      folded: turnsUsed < memory.length || usedSummary !== lastSummary,
      bound,
    });
    lastSummary = usedSummary;
    history.push({ user: message, assistant: text });
    // As the UI does after a reply that marked old turns for folding: fold them in bounded steps.
    for (let dropped = foldTurns; dropped > 0; ) {
      const step = await summarize(engine, { summary, turns: history.slice(start, start + Math.min(dropped, FOLD_STEP_TURNS)), persona: settings.persona }, contextSize, signal);
      summary = step.text;
      start += step.folded;
      dropped -= step.folded;
    }
  }
  return records;
}
