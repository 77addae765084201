import { DEFAULT_GROUP_PROMPTS, DEFAULT_INSTRUCTIONS } from '../prompts/defaults';
import type { ChatSettings, GenerationParams, Persona } from './protocol';

/** The settings a new user starts with, and what "Reset" goes back to. */
export const DEFAULT_GENERATION: GenerationParams = {
  maxNewTokens: 256,
  temperature: 0.7,
  topK: 50,
  topP: 0.9,
  // phi-2 loops on its own phrases without a penalty.
  repetitionPenalty: 1.15,
};

export const DEFAULT_PERSONA: Persona = { name: 'Chatbot', description: '' };

export function defaultChatSettings(): ChatSettings {
  return {
    generation: { ...DEFAULT_GENERATION },
    persona: { ...DEFAULT_PERSONA },
    instructions: { ...DEFAULT_INSTRUCTIONS },
    classifyWithPreviousTurn: false,
    group: { ...DEFAULT_GROUP_PROMPTS, talkativeness: 'balanced' },
  };
}
