import { LIMITS } from './settings';

export type NumberSetting = keyof typeof LIMITS;

/** The generation settings that take whole numbers only. */
const WHOLE: ReadonlySet<NumberSetting> = new Set(['topK', 'maxNewTokens']);

export interface CheckedNumber {
  /** The value the setting takes. */
  value: number;
  /** Why it is not what was typed, naming the allowed range and the value used; null when it is. */
  message: string | null;
}

/**
 * What a number field typed by the user (its raw text) sets: in range it is used as typed; out of
 * range it is brought to the nearest end; unreadable (letters, an emptied field) the previous value
 * stays. Either way the message says so, so nothing is changed behind the user's back.
 */
export function checkNumberSetting(key: NumberSetting, label: string, raw: string, previous: number): CheckedNumber {
  const { min, max } = LIMITS[key];
  const range = `${label} takes ${WHOLE.has(key) ? 'a whole number' : 'a number'} from ${min} to ${max}`;
  const typed = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(typed)) {
    // A number field reports letters as an empty value, so both read the same here.
    const what = raw.trim() === '' ? 'the field holds no number' : `“${raw.trim()}” is not a number`;
    return { value: previous, message: `${range}; ${what}, so ${previous} is still used.` };
  }
  const clamped = Math.min(max, Math.max(min, typed));
  const value = WHOLE.has(key) ? Math.round(clamped) : clamped;
  if (value === typed) return { value, message: null };
  return { value, message: `${range}, so ${value} is used instead of ${raw.trim()}.` };
}
