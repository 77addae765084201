import { DEFAULT_GENERATION, defaultChatSettings } from '../../workers/defaults';
import { ROUTES, TALKATIVENESS, type ChatSettings, type GenerationParams, type RouteIntent, type Talkativeness } from '../../workers/protocol';

export const SETTINGS_KEY = 'phi-chat.settings';

/** The range each generation setting may take; the inputs use the same bounds. */
export const LIMITS = {
  temperature: { min: 0, max: 2, step: 0.05 },
  topK: { min: 0, max: 200, step: 1 },
  topP: { min: 0.05, max: 1, step: 0.05 },
  maxNewTokens: { min: 16, max: 1024, step: 16 },
  repetitionPenalty: { min: 1, max: 2, step: 0.05 },
} as const;

const clamp = (value: unknown, { min, max }: { min: number; max: number }, fallback: number) =>
  typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
const text = (value: unknown, fallback: string, max: number) => (typeof value === 'string' ? value.slice(0, max) : fallback);
const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});

/** Saved settings (JSON) over the defaults; see `normalizeSettings`. */
export function parseSettings(json: string | null): ChatSettings {
  try {
    return normalizeSettings(JSON.parse(json ?? '{}'));
  } catch {
    return defaultChatSettings();
  }
}

/**
 * Settings from anywhere (storage, an import, a form being edited) over the defaults: unknown
 * fields are dropped, numbers are clamped to their range, and anything unreadable (an emptied
 * number field, say) falls back to the default, so a bad value can never break a prompt.
 */
export function normalizeSettings(value: unknown): ChatSettings {
  const defaults = defaultChatSettings();
  const saved = record(value);
  const generation = record(saved.generation);
  const persona = record(saved.persona);
  const instructions = record(saved.instructions);
  const group = record(saved.group);
  return {
    generation: {
      temperature: clamp(generation.temperature, LIMITS.temperature, defaults.generation.temperature),
      topK: Math.round(clamp(generation.topK, LIMITS.topK, defaults.generation.topK)),
      topP: clamp(generation.topP, LIMITS.topP, defaults.generation.topP),
      maxNewTokens: Math.round(clamp(generation.maxNewTokens, LIMITS.maxNewTokens, defaults.generation.maxNewTokens)),
      repetitionPenalty: clamp(generation.repetitionPenalty, LIMITS.repetitionPenalty, defaults.generation.repetitionPenalty),
    },
    persona: {
      name: text(persona.name, defaults.persona.name, 40).trim() || defaults.persona.name,
      description: text(persona.description, defaults.persona.description, 500),
    },
    instructions: Object.fromEntries(ROUTES.map((route) => [route, text(instructions[route], defaults.instructions[route], 2000).trim() || defaults.instructions[route]])) as Record<RouteIntent, string>,
    classifyWithPreviousTurn: saved.classifyWithPreviousTurn === true,
    group: {
      instructions: text(group.instructions, defaults.group.instructions, 2000).trim() || defaults.group.instructions,
      reminder: text(group.reminder, defaults.group.reminder, 500).trim() || defaults.group.reminder,
      talkativeness: TALKATIVENESS.includes(group.talkativeness as Talkativeness) ? (group.talkativeness as Talkativeness) : defaults.group.talkativeness,
    },
  };
}

export function loadSettings(storage: Pick<Storage, 'getItem'>): ChatSettings {
  return parseSettings(storage.getItem(SETTINGS_KEY));
}

export function saveSettings(settings: ChatSettings, storage: Pick<Storage, 'setItem'>) {
  storage.setItem(SETTINGS_KEY, JSON.stringify(settings));
}

/**
 * The generation settings a reply uses: each one the user changed (it differs from the app's
 * default) wins; each one they left alone follows the loaded model's own default.
 */
export function effectiveGeneration(user: GenerationParams, model: GenerationParams, appDefaults: GenerationParams = DEFAULT_GENERATION): GenerationParams {
  const keys = Object.keys(appDefaults) as (keyof GenerationParams)[];
  return Object.fromEntries(keys.map((key) => [key, user[key] !== appDefaults[key] ? user[key] : model[key]])) as unknown as GenerationParams;
}
