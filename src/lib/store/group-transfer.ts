import type { GroupDecision } from '../../../workers/protocol';
import { MAX_PARTICIPANTS, participantNameError } from '../../../workers/group';
import { ImportError } from './transfer';
import type { Conversation, Participant } from './types';

/**
 * The group fields of an export, read as strictly as the rest of it. A file that holds a group
 * conversation is written as version 2, which builds from before group chat refuse as "made by a
 * newer version" instead of loading it as a one-to-one chat without its speakers.
 */
export const GROUP_EXPORT_VERSION = 2;

const fail = (path: string, what: string): never => {
  throw new ImportError(`${path} ${what}.`);
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ID = /^[A-Za-z0-9_-]{1,100}$/;

function participant(v: unknown, path: string): Participant {
  if (!isObject(v) || typeof v.id !== 'string' || !ID.test(v.id)) return fail(path, 'must be a participant with an id');
  if (typeof v.name !== 'string' || v.name.length > 200) return fail(`${path}.name`, 'must be a name');
  return { id: v.id, name: v.name };
}

export function readGroup(v: unknown, path: string): NonNullable<Conversation['group']> {
  if (!isObject(v) || !Array.isArray(v.participants)) return fail(path, 'must list the participants');
  if (v.participants.length === 0 || v.participants.length > MAX_PARTICIPANTS) return fail(`${path}.participants`, `must hold 1 to ${MAX_PARTICIPANTS} participants`);
  const participants = v.participants.map((p, i) => participant(p, `${path}.participants[${i}]`));
  participants.forEach((p, i) => {
    const problem = participantNameError(p.name, participants.slice(0, i).map((o) => o.name), '');
    if (problem) fail(`${path}.participants[${i}].name`, `is not usable (${problem.replace(/\.$/, '')})`);
    if (participants.findIndex((o) => o.id === p.id) !== i) fail(`${path}.participants[${i}].id`, 'appears twice');
  });
  return { participants };
}

/** A message's speaker: someone who may have left the group since, so only its shape is checked. */
export function readSpeaker(v: unknown, path: string): Participant {
  return participant(v, path);
}

export function readDecision(v: unknown, path: string): GroupDecision {
  if (!isObject(v) || typeof v.speak !== 'boolean') return fail(path, 'must be a speak or silence decision');
  const p = (key: 'modelProbability' | 'probability' | 'threshold') => {
    const n = v[key];
    return typeof n === 'number' && n >= 0 && n <= 1 ? n : fail(`${path}.${key}`, 'must be a probability');
  };
  const addressed = v.addressed === 'named' || v.addressed === 'question' || v.addressed === 'no' ? v.addressed : fail(`${path}.addressed`, 'must be no, named or question');
  const decision: GroupDecision = { speak: v.speak, modelProbability: p('modelProbability'), probability: p('probability'), threshold: p('threshold'), addressed };
  if (v.forced === true) decision.forced = true;
  return decision;
}
