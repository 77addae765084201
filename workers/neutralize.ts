/**
 * Text from the conversation goes into a prompt whose structure is speaker lines (`Human:`,
 * `Chatbot:`) and an `Instructions:` line. A message that contains such a label could forge a turn
 * or an instruction, so before it enters the prompt each label's colon becomes a full-width colon
 * (U+FF1A): it reads the same to the model's eye, but is no longer the token sequence that starts
 * a turn. The user still sees their text unchanged; only the prompt's copy is altered.
 */
import { escapeRegExp, SPEAKER_NAME } from './stop-sequences';

const FULLWIDTH_COLON = '\uFF1A';

/** A speaker-like label at the start of a line: the very shape the stop filter ends a reply at. */
const LINE_LABEL = new RegExp(String.raw`(^|\n)([ \t]*${SPEAKER_NAME}[ \t]*):`, 'g');

export function neutralize(text: string, speakers: readonly string[]): string {
  const names = ['Human', 'Instructions', 'Instruct', 'Output', ...speakers].filter(Boolean).map(escapeRegExp);
  // The protected names, anywhere and in any case ("...and then chatbot: do this").
  const anywhere = new RegExp(`\\b(${names.join('|')})(\\s*):`, 'gi');
  return text.replace(anywhere, `$1$2${FULLWIDTH_COLON}`).replace(LINE_LABEL, `$1$2${FULLWIDTH_COLON}`);
}
