/**
 * Group conversations: several people talk, and after every message the assistant decides whether
 * to speak. The decision is a score, not a hope: the two label continuations of the group prompt
 * are scored in one forward pass, as the intent classifier does, so nothing but speak or silence
 * can come out of it. Everything here is pure; `group-chat.ts` runs it on an engine.
 */
import { CHAT_TEMPLATES } from '../prompts';
import { neutralize } from './neutralize';
import { fillTemplate, PromptTooLongError } from './prompt';
import { cleanerFor, PLAIN_FORMAT, renderChat, stopFilterFor, type ChatFormat, type ChatMessage, type PromptFormat } from './prompt-format';
import type { GroupDecision, GroupLine, Persona, Talkativeness } from './protocol';
import type { StopSequenceFilter } from './stop-sequences';

export const MAX_PARTICIPANTS = 8;
export const MAX_PARTICIPANT_NAME = 40;

/** The speak probability a reply needs, by talkativeness. */
export const TALKATIVENESS_THRESHOLDS: Record<Talkativeness, number> = { quiet: 0.75, balanced: 0.5, chatty: 0.25 };

/**
 * Being addressed shifts the model's log-odds of speaking by this much (in nats): ×7.4 the odds when
 * the message names the assistant, ×20 when it also asks it a question (or asks a question right
 * after the assistant spoke, to no one else by name). A prior rather than a prompt cue, so the
 * prompt stays the same for both outcomes and the numbers in Details say exactly what happened.
 */
export const ADDRESS_PRIOR: Record<GroupDecision['addressed'], number> = { no: 0, named: 2, question: 3 };

export interface GroupLabels {
  speak: string;
  silent: string;
}

/**
 * The label pair scored after the decision line. One token each in phi-2's tokenizer (GPT-2 BPE), as
 * WebLLM's scorer needs; the seed's `(response)`/`(silence)` are several tokens there, all starting
 * with the same `(`. `npm run eval -- --task group` measures every pair in `GROUP_LABEL_CANDIDATES`.
 */
export const GROUP_LABELS: GroupLabels = { speak: ' speak', silent: ' stay' };
export const GROUP_LABEL_CANDIDATES: readonly GroupLabels[] = [
  GROUP_LABELS,
  { speak: ' reply', silent: ' wait' },
  { speak: ' answer', silent: ' listen' },
  { speak: ' (response)', silent: ' (silence)' },
];

/** The last line of the decision prompt: the labels follow it. */
export const decisionLine = (bot: string) => `Output: Now ${bot} should`;
/** The last line of the reply prompt: the reply follows it. */
export const replyLine = (bot: string) => `${bot}:`;

/** A name as it can stand before a colon on one line of the prompt. */
export function lineName(name: string): string {
  return name.replace(/[\s:]+/g, ' ').trim() || 'Someone';
}

/** Why a participant's name cannot be used, or null when it can. `others` are the other participants' names. */
export function participantNameError(name: string, others: readonly string[], assistant: string): string | null {
  const clean = name.replace(/\s+/g, ' ').trim();
  if (!clean) return 'A participant needs a name.';
  if (clean.length > MAX_PARTICIPANT_NAME) return `A name can be at most ${MAX_PARTICIPANT_NAME} characters.`;
  if (clean.includes(':')) return 'A name cannot contain a colon: it marks who speaks in the prompt.';
  const same = (other: string) => other.replace(/\s+/g, ' ').trim().toLowerCase() === clean.toLowerCase();
  if (others.some(same)) return `There is already a participant called ${clean}.`;
  if (same(assistant) || same('Assistant')) return `${clean} is the assistant's name; choose another one.`;
  return null;
}

const mentions = (text: string, name: string) => new RegExp(`(^|[^\\p{L}\\p{N}])@?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'iu').test(text);

/** Whether the message talks to the assistant: by its name or as "assistant", and whether as a question. */
export function addressing(message: GroupLine, previous: GroupLine | undefined, bot: string, participants: readonly string[]): GroupDecision['addressed'] {
  const question = /\?\s*$|\?\s/.test(message.text);
  const named = mentions(message.text, bot) || mentions(message.text, 'assistant');
  if (named) return question ? 'question' : 'named';
  const toSomeoneElse = participants.some((name) => name !== message.speaker && mentions(message.text, name));
  return question && previous?.assistant && !toSomeoneElse ? 'question' : 'no';
}

/** The speak probability from the two labels' log-probabilities, the prior for being addressed, and the threshold. */
export function decide(
  logProbs: { speak: number; silent: number },
  { threshold, addressed, force = false }: { threshold: number; addressed: GroupDecision['addressed']; force?: boolean },
): GroupDecision {
  const logOdds = logProbs.speak - logProbs.silent;
  const sigmoid = (x: number) => (Number.isNaN(x) ? 0.5 : 1 / (1 + Math.exp(-x)));
  const modelProbability = sigmoid(logOdds);
  const probability = sigmoid(logOdds + ADDRESS_PRIOR[addressed]);
  const decision: GroupDecision = { speak: force || probability > threshold, modelProbability, probability, threshold, addressed };
  if (force) decision.forced = true;
  return decision;
}

export interface GroupPromptInput {
  /** The plain format's frame; a chat format renders `CHAT_TEMPLATES.group` instead. */
  template: string;
  /** Plain when absent. */
  format?: PromptFormat;
  instructions: string;
  reminder: string;
  persona: Persona;
  /** The assistant's speaker name. */
  bot: string;
  participants: readonly string[];
  /** Lines before the message, oldest first. */
  history: readonly GroupLine[];
  message: GroupLine;
  summary?: string;
  countTokens: (text: string) => number;
  /** Tokens the prompt may use: the context window less the room kept for the reply. */
  budget: number;
}

export interface GroupPrompt {
  /** Everything the decision and the reply prompts share. */
  frame: string;
  /** The speak-or-silence prompt: the labels follow it. */
  decision: string;
  /** The reply prompt: the reply follows it. */
  reply: string;
  /** Tokens of the longer of the two prompts (the decision's). */
  tokens: number;
  /** Earlier lines included; older ones did not fit. */
  linesUsed: number;
  summarized: boolean;
}

/** Every name a line of the conversation could forge a turn with. */
export function protectedNames(bot: string, participants: readonly string[]): string[] {
  return [bot, 'Assistant', ...participants.map(lineName)];
}

/** Lines as a transcript; in a chat format (a transcript to summarize) its markers are neutralised too. */
export function formatGroupLines(lines: readonly GroupLine[], names: readonly string[], format: PromptFormat = PLAIN_FORMAT): string {
  const clean = cleanerFor(format, (text) => neutralize(text.trim(), names));
  const name = cleanerFor(format, lineName);
  return lines.map((line) => `${name(line.speaker)}: ${clean(line.text)}\n`).join('');
}

export const decisionPrompt = (frame: string, bot: string) => `${frame}\n${decisionLine(bot)}`;
export const replyPrompt = (frame: string, bot: string) => `${frame}\n${replyLine(bot)}`;

/**
 * The group prompt with as many recent lines as fit the budget, the message always among them. The
 * summary stands in for older lines and is left out only if the message alone does not fit beside it.
 */
export function buildGroupPrompt(input: GroupPromptInput): GroupPrompt {
  const names = protectedNames(input.bot, input.participants);
  const format = input.format ?? PLAIN_FORMAT;
  const render = format.kind === 'chat' ? chatGroupRenderer(input, format, names) : (lines: readonly GroupLine[], summary: string | undefined) =>
    fillTemplate(input.template, {
      instructions: input.instructions.trim(),
      reminder: input.reminder.trim(),
      bot: input.bot,
      persona: input.persona.description.trim() ? ` ${neutralize(input.persona.description.trim(), names)}` : '',
      participants: input.participants.map(lineName).join(', '),
      summary: summary?.trim() ? `Summary of the earlier conversation: ${neutralize(summary.trim(), names)}\n` : '',
      history: formatGroupLines([...lines, input.message], names),
    });
  const fit = (summary: string | undefined): GroupPrompt | null => {
    const all = input.history.length;
    let lo = 0;
    let hi = all;
    let best: GroupPrompt | null = null;
    while (lo <= hi) {
      const keep = (lo + hi) >> 1;
      const prompts = withLastLines(format, render(input.history.slice(all - keep), summary), input.bot);
      const tokens = input.countTokens(prompts.decision);
      if (tokens <= input.budget) {
        best = { ...prompts, tokens, linesUsed: keep, summarized: Boolean(summary?.trim()) };
        lo = keep + 1;
      } else {
        hi = keep - 1;
      }
    }
    return best;
  };
  const best = (input.summary?.trim() ? fit(input.summary) : null) ?? fit(undefined);
  if (!best) throw new PromptTooLongError(input.countTokens(withLastLines(format, render([], undefined), input.bot).decision), input.budget);
  return best;
}

/** The decision and reply prompts from their shared frame: in a chat template, the decision starts the assistant's answer. */
function withLastLines(format: PromptFormat, frame: string, bot: string): Pick<GroupPrompt, 'frame' | 'decision' | 'reply'> {
  if (format.kind === 'plain') return { frame, decision: decisionPrompt(frame, bot), reply: replyPrompt(frame, bot) };
  return { frame, decision: frame + fillTemplate(CHAT_TEMPLATES.group.answer, { bot: cleanerFor(format, (text) => text)(bot) }), reply: frame };
}

/**
 * The group prompt as messages: the system message (instructions, who is who, the summary), then
 * the participants' lines as user messages (consecutive ones together, each line `Name: text`) and
 * the assistant's own lines as its messages, the reminder after the newest line.
 */
function chatGroupRenderer(input: GroupPromptInput, format: ChatFormat, names: readonly string[]) {
  const clean = cleanerFor(format, (text) => neutralize(text.trim(), names));
  // The settings' texts lose only their markers, as the plain frame leaves them whole.
  const setting = cleanerFor(format, (text) => text.trim());
  const name = cleanerFor(format, lineName);
  const template = CHAT_TEMPLATES.group;
  return (lines: readonly GroupLine[], summary: string | undefined) => {
    const messages: ChatMessage[] = [
      {
        role: 'system',
        content: fillTemplate(template.system, {
          instructions: setting(input.instructions),
          bot: name(input.bot),
          persona: input.persona.description.trim() ? ` ${clean(input.persona.description)}` : '',
          participants: input.participants.map(name).join(', '),
          summary: summary?.trim() ? `\n\nSummary of the earlier conversation: ${clean(summary)}` : '',
        }),
      },
    ];
    let pending: string[] = [];
    for (const line of lines) {
      if (!line.assistant) {
        pending.push(`${name(line.speaker)}: ${clean(line.text)}`);
        continue;
      }
      if (pending.length) messages.push({ role: 'user', content: pending.join('\n') });
      pending = [];
      messages.push({ role: 'assistant', content: clean(line.text) });
    }
    pending.push(`${name(input.message.speaker)}: ${clean(input.message.text)}`);
    messages.push({ role: 'user', content: fillTemplate(template.user, { lines: pending.join('\n'), reminder: setting(input.reminder) }) });
    return renderChat(format, messages);
  };
}

/** Ends a reply where any participant, or the assistant itself, starts a new line. */
export function groupStopFilter(bot: string, participants: readonly string[], format: PromptFormat = PLAIN_FORMAT): StopSequenceFilter {
  return stopFilterFor(format, protectedNames(bot, participants), { anySpeaker: true });
}
