import { CHAT_TEMPLATES, GROUP_SUMMARIZE_TEMPLATE, GROUP_TEMPLATE } from '../prompts';
import { promptFormatInfo, streamReply, SUMMARY_TOKENS, writeSummary, type ReplyResult } from './chat';
import type { Engine } from './engine';
import { addressing, buildGroupPrompt, decide, formatGroupLines, GROUP_LABELS, groupStopFilter, lineName, protectedNames, TALKATIVENESS_THRESHOLDS, type GroupLabels, type GroupPrompt } from './group';
import { neutralize } from './neutralize';
import { fillTemplate, speakerName } from './prompt';
import { cleanerFor, renderChat } from './prompt-format';
import type { GroupChatRequest, GroupDecision, GroupLine, PromptInfo, ReplyStats, SummarizeRequest } from './protocol';

export type GroupTurn = Omit<GroupChatRequest, 'id' | 'type'>;

/** Room for the reply, capped at half the window as for one-to-one replies. */
const replyRoom = (turn: GroupTurn, contextSize: number) => Math.max(1, Math.min(turn.settings.generation.maxNewTokens, Math.floor(contextSize / 2)));

export function groupPrompt(engine: Engine<never>, turn: GroupTurn, contextSize: number): GroupPrompt {
  const { settings } = turn;
  return buildGroupPrompt({
    template: GROUP_TEMPLATE,
    format: engine.promptFormat(),
    instructions: settings.group.instructions,
    reminder: settings.group.reminder,
    persona: settings.persona,
    bot: speakerName(settings.persona),
    participants: turn.participants,
    history: turn.history,
    message: turn.message,
    summary: turn.summary,
    countTokens: (text) => engine.countTokens(text),
    budget: contextSize - replyRoom(turn, contextSize),
  });
}

/**
 * Speak or stay silent: both labels scored in one forward pass over the decision prompt, the prior
 * for being addressed added, and the talkativeness threshold applied. The eval runs this very code.
 */
export async function decideGroupTurn(
  engine: Engine<never>,
  turn: GroupTurn,
  contextSize: number,
  labels: GroupLabels = GROUP_LABELS,
): Promise<{ decision: GroupDecision; prompt: PromptInfo; built: GroupPrompt }> {
  const built = groupPrompt(engine, turn, contextSize);
  const bot = speakerName(turn.settings.persona);
  const text = built.decision;
  const [speak, silent] = await engine.scoreContinuations(text, [labels.speak, labels.silent]);
  const decision = decide(
    { speak, silent },
    {
      threshold: TALKATIVENESS_THRESHOLDS[turn.settings.group.talkativeness],
      addressed: addressing(turn.message, turn.history.at(-1), bot, turn.participants),
      force: turn.force,
    },
  );
  const format = promptFormatInfo(engine.promptFormat());
  return { decision, prompt: { text, tokens: built.tokens, turnsUsed: built.linesUsed, summarized: built.summarized, ...format }, built };
}

export interface GroupReplyEvents {
  onDecision(decision: GroupDecision, prompt: PromptInfo): void;
  onPrompt(prompt: PromptInfo): void;
  onText(text: string): void;
}

/** Decides, and when the decision is to speak, streams the reply, cut where anyone's next line starts. */
export async function groupReply(engine: Engine<never>, turn: GroupTurn, contextSize: number, events: GroupReplyEvents, signal: AbortSignal): Promise<ReplyResult> {
  const started = performance.now();
  const { decision, prompt, built } = await decideGroupTurn(engine, turn, contextSize);
  events.onDecision(decision, prompt);
  const classifyMs = Math.round(performance.now() - started);
  const empty: ReplyStats = { promptTokens: 0, replyTokens: 0, classifyMs, firstTokenMs: 0, prefillTokensPerSecond: 0, decodeTokensPerSecond: 0 };
  if (signal.aborted) return { stopReason: 'aborted', stats: empty };
  if (!decision.speak) return { stopReason: 'end', stats: empty };

  const bot = speakerName(turn.settings.persona);
  const text = built.reply;
  const promptTokens = engine.countTokens(text);
  events.onPrompt({ text, tokens: promptTokens, turnsUsed: built.linesUsed, summarized: built.summarized, ...promptFormatInfo(engine.promptFormat()) });
  const { stopReason, timing } = await streamReply(
    engine,
    { text, tokens: promptTokens },
    { ...turn.settings.generation, maxNewTokens: replyRoom(turn, contextSize) },
    groupStopFilter(bot, turn.participants, engine.promptFormat()),
    events.onText,
    signal,
  );
  return { stopReason, stats: { ...timing, classifyMs } };
}

/**
 * Writes the running summary anew from the previous one and the group lines that just fell out of
 * the prompt; the oldest lines go first if even they do not fit, and a single line too long is cut.
 */
export async function summarizeGroup(
  engine: Engine<never>,
  request: Omit<SummarizeRequest, 'id' | 'type'> & { group: { lines: GroupLine[]; participants: string[] } },
  contextSize: number,
  signal: AbortSignal,
): Promise<string> {
  const bot = speakerName(request.persona);
  const names = protectedNames(bot, request.group.participants);
  const format = engine.promptFormat();
  const clean = cleanerFor(format, (text) => neutralize(text, names));
  const values = (lines: readonly GroupLine[]) => ({
    bot: clean(bot),
    participants: request.group.participants.map(cleanerFor(format, lineName)).join(', '),
    previous: request.summary?.trim() ? `Summary so far: ${clean(request.summary.trim())}\n` : '',
    lines: formatGroupLines(lines, names, format).trimEnd(),
  });
  const template = CHAT_TEMPLATES.groupSummarize;
  const render = (lines: readonly GroupLine[]) =>
    format.kind === 'chat'
      ? renderChat(format, [
          { role: 'system', content: fillTemplate(template.system, values(lines)) },
          { role: 'user', content: fillTemplate(template.user, values(lines)) },
        ])
      : fillTemplate(GROUP_SUMMARIZE_TEMPLATE, values(lines));
  const budget = contextSize - SUMMARY_TOKENS;
  let lines = request.group.lines;
  while (lines.length > 1 && engine.countTokens(render(lines)) > budget) lines = lines.slice(1);
  let prompt = render(lines);
  for (let keep = lines[0]?.text.length ?? 0; keep > 0 && engine.countTokens(prompt) > budget; ) {
    keep = Math.floor(keep * 0.8);
    prompt = render([{ ...lines[0], text: lines[0].text.slice(0, keep) }]);
  }
  return writeSummary(engine, prompt, groupStopFilter(bot, request.group.participants, format), signal);
}
