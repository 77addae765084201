import classifyTemplate from '../prompts/classify.txt?raw';
import replyTemplate from '../prompts/reply.txt?raw';
import supportInstructions from '../prompts/intents/support.txt?raw';
import salesInstructions from '../prompts/intents/sales.txt?raw';
import jokeInstructions from '../prompts/intents/joke.txt?raw';
import generalInstructions from '../prompts/intents/general.txt?raw';
import type { Engine, GenerationParams } from './engine';
import { classify, LABEL_CONTINUATIONS } from './labels';
import { buildReplyPrompt, fillTemplate } from './prompt';
import { INTENTS, type Classification, type PromptInfo, type RouteIntent, type StopReason, type Turn } from './protocol';
import { StopSequenceFilter } from './stop-sequences';

export const INSTRUCTIONS: Record<RouteIntent, string> = {
  support: supportInstructions,
  sales: salesInstructions,
  joke: jokeInstructions,
  general: generalInstructions,
};

export async function classifyMessage(engine: Engine<unknown>, message: string): Promise<Classification> {
  const prompt = fillTemplate(classifyTemplate.trimEnd(), { message: message.trim() });
  const scores = await engine.scoreContinuations(
    prompt,
    INTENTS.map((intent) => LABEL_CONTINUATIONS[intent]),
  );
  return classify(Object.fromEntries(INTENTS.map((intent, i) => [intent, scores[i]])) as Record<
    (typeof INTENTS)[number],
    number
  >);
}

export interface ReplyRequest {
  history: readonly Turn[];
  message: string;
  contextSize: number;
  params: GenerationParams;
}

export interface ReplyEvents {
  onIntent(classification: Classification): void;
  onPrompt(prompt: PromptInfo): void;
  onText(text: string): void;
}

/** Classifies the message, then streams a reply with that intent's instructions. */
export async function reply(
  engine: Engine<unknown>,
  request: ReplyRequest,
  events: ReplyEvents,
  signal: AbortSignal,
): Promise<StopReason> {
  // Refuse an over-long message before spending a forward pass on classifying it.
  const budget = request.contextSize - request.params.maxNewTokens;
  const check = { template: replyTemplate, history: [], message: request.message, countTokens: (t: string) => engine.countTokens(t), budget };
  buildReplyPrompt({ ...check, instructions: INSTRUCTIONS.general });

  const classification = await classifyMessage(engine, request.message);
  events.onIntent(classification);
  if (signal.aborted) return 'aborted';

  const { prompt, tokens, turnsUsed } = buildReplyPrompt({
    ...check,
    history: request.history,
    instructions: INSTRUCTIONS[classification.route],
  });
  events.onPrompt({ text: prompt, tokens, turnsUsed });
  const filter = new StopSequenceFilter();
  const end = await engine.generate(
    prompt,
    request.params,
    (text) => {
      const { text: visible, stopped } = filter.push(text);
      if (visible) events.onText(visible);
      return !stopped;
    },
    signal,
  );
  const rest = filter.flush();
  if (rest) events.onText(rest);
  if (end === 'stopped') return signal.aborted ? 'aborted' : 'end';
  return end;
}
