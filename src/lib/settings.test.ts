import { describe, expect, it } from 'vitest';
import { DEFAULT_INSTRUCTIONS } from '../../prompts/defaults';
import { defaultChatSettings } from '../../workers/defaults';
import { memoryStorage } from './memory-storage';
import { effectiveGeneration, loadSettings, normalizeSettings, parseSettings, saveSettings, SETTINGS_KEY } from './settings';

describe('settings', () => {
  it('start from the defaults, with the instructions from prompts/', () => {
    const settings = parseSettings(null);
    expect(settings).toEqual(defaultChatSettings());
    expect(settings.instructions.support).toBe(DEFAULT_INSTRUCTIONS.support);
  });

  it('survive a save and a load unchanged', () => {
    const storage = memoryStorage();
    const settings = defaultChatSettings();
    settings.generation.temperature = 0.3;
    settings.persona = { name: 'Bob', description: 'Bob is a professor in Physics.' };
    settings.instructions.joke = 'Tell a pun.';
    settings.classifyWithPreviousTurn = true;
    saveSettings(settings, storage);
    expect(loadSettings(storage)).toEqual(settings);
  });

  it('clamp out-of-range numbers and replace junk with defaults', () => {
    const storage = memoryStorage();
    storage.setItem(SETTINGS_KEY, JSON.stringify({
      generation: { temperature: 99, topK: -5, topP: 'high', maxNewTokens: 100_000, repetitionPenalty: null },
      persona: { name: '   ', description: 42 },
      instructions: { support: '', sales: 'Sell!', hacked: 'x' },
      classifyWithPreviousTurn: 'yes',
      extra: { __proto__: { polluted: true } },
    }));
    const settings = loadSettings(storage);
    expect(settings.generation).toEqual({ temperature: 2, topK: 0, topP: 0.9, maxNewTokens: 1024, repetitionPenalty: 1.15 });
    expect(settings.persona).toEqual({ name: 'Chatbot', description: '' });
    expect(settings.instructions.support).toBe(DEFAULT_INSTRUCTIONS.support);
    expect(settings.instructions.sales).toBe('Sell!');
    expect(settings.instructions).not.toHaveProperty('hacked');
    expect(settings.classifyWithPreviousTurn).toBe(false);
  });

  it('fall back to the defaults when the saved value is not JSON', () => {
    const storage = memoryStorage();
    storage.setItem(SETTINGS_KEY, '{oops');
    expect(loadSettings(storage)).toEqual(defaultChatSettings());
  });

  it('normalise a form being edited: an emptied number field goes back to its default', () => {
    const edited = defaultChatSettings() as unknown as { generation: Record<string, unknown> };
    edited.generation.maxNewTokens = null;
    edited.generation.temperature = '';
    const settings = normalizeSettings(edited);
    expect(settings.generation.maxNewTokens).toBe(256);
    expect(settings.generation.temperature).toBe(0.7);
  });

  it('keep valid group settings and put the defaults back for anything else', () => {
    const kept = normalizeSettings({ group: { talkativeness: 'chatty', instructions: 'Be quiet.', reminder: 'Shh.' } });
    expect(kept.group).toEqual({ talkativeness: 'chatty', instructions: 'Be quiet.', reminder: 'Shh.' });
    const bad = normalizeSettings({ group: { talkativeness: 'loud', instructions: '   ', reminder: 5 } });
    expect(bad.group).toEqual(defaultChatSettings().group);
    expect(normalizeSettings({}).group.talkativeness).toBe('balanced');
  });
});

describe('per-model generation defaults', () => {
  const qwen = { maxNewTokens: 256, temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.05 };
  const smol = { maxNewTokens: 256, temperature: 0.2, topK: 50, topP: 0.9, repetitionPenalty: 1.05 };

  it('follows the model wherever the user kept the app default', () => {
    expect(effectiveGeneration(defaultChatSettings().generation, qwen)).toEqual(qwen);
  });

  it('keeps every setting the user changed, over any model', () => {
    const user = { ...defaultChatSettings().generation, temperature: 1.2, maxNewTokens: 64 };
    expect(effectiveGeneration(user, qwen)).toEqual({ ...qwen, temperature: 1.2, maxNewTokens: 64 });
    expect(effectiveGeneration(user, smol)).toEqual({ ...smol, temperature: 1.2, maxNewTokens: 64 });
  });

  it('changes nothing for phi-2, whose defaults are the app’s', () => {
    const user = { ...defaultChatSettings().generation, topK: 10 };
    expect(effectiveGeneration(user, defaultChatSettings().generation)).toEqual(user);
  });
});
