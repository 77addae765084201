import { describe, expect, it } from 'vitest';
import { defaultChatSettings } from './defaults';
import type { Engine } from './engine';
import { groupReply, summarizeGroup, type GroupTurn } from './group-chat';
import { PLAIN_FORMAT, type PromptFormat } from './prompt-format';
import type { GroupDecision, PromptInfo } from './protocol';

/**
 * A scripted engine: fixed label scores and a fixed stream of text. It checks what the group path
 * does with a decision and a reply (which prompt, when it generates, where it cuts), not inference,
 * which `npm run eval` and e2e/group.spec.ts run on the real engine.
 */
function scripted(scores: [number, number], pieces: string[], format: PromptFormat = PLAIN_FORMAT) {
  const calls = { scored: [] as string[], generated: [] as string[] };
  const engine: Engine<never> = {
    promptFormat: () => format,
    load: async () => ({ engine: 'transformers.js', device: 'wasm', model: 'm', dtype: 'fp32', threads: 1, contextSize: 2048 }),
    countTokens: (text) => text.split(/\s+/).filter(Boolean).length,
    scoreContinuations: async (prompt) => (calls.scored.push(prompt), scores),
    generate: async (prompt, _params, onText) => {
      calls.generated.push(prompt);
      for (const piece of pieces) if (!onText(piece)) return 'stopped';
      return 'end';
    },
    unload: async () => {},
  };
  return { engine, calls };
}

const turn = (over: Partial<GroupTurn> = {}): GroupTurn => ({
  participants: ['Alice', 'bob'],
  history: [{ speaker: 'Alice', text: 'Train at nine?' }],
  message: { speaker: 'bob', text: 'Chatbot, how long is the ride?' },
  settings: defaultChatSettings(),
  force: false,
  ...over,
});

async function run(engine: Engine<never>, t: GroupTurn) {
  const seen: { decision?: GroupDecision; decisionPrompt?: PromptInfo; prompt?: PromptInfo; text: string } = { text: '' };
  const result = await groupReply(engine, t, 2048, {
    onDecision: (decision, prompt) => Object.assign(seen, { decision, decisionPrompt: prompt }),
    onPrompt: (prompt) => (seen.prompt = prompt),
    onText: (text) => (seen.text += text),
  }, new AbortController().signal);
  return { ...seen, result };
}

describe('groupReply', () => {
  it('stays silent without generating when the speak probability is under the threshold', async () => {
    const { engine, calls } = scripted([-5, 0], ['never']);
    const seen = await run(engine, turn({ message: { speaker: 'bob', text: 'ok' } }));
    expect(seen.decision).toMatchObject({ speak: false, addressed: 'no', threshold: 0.5 });
    expect(seen.decisionPrompt?.text).toMatch(/bob: ok\nInstructions: .*\nOutput: Now Chatbot should$/);
    expect(calls.generated).toEqual([]);
    expect(seen.text).toBe('');
    expect(seen.result.stopReason).toBe('end');
  });

  it('speaks when addressed, from the same frame ending in its name, and cuts at a lowercase participant', async () => {
    const { engine, calls } = scripted([-1.5, 0], [' About', ' an hour.', '\nbo', 'b: great']);
    const seen = await run(engine, turn());
    expect(seen.decision).toMatchObject({ speak: true, addressed: 'question' });
    expect(seen.decision!.modelProbability).toBeLessThan(0.5);
    const frame = calls.scored[0].slice(0, calls.scored[0].lastIndexOf('\n'));
    expect(calls.generated).toEqual([`${frame}\nChatbot:`]);
    expect(seen.text).toBe('About an hour.');
  });

  it('replies when forced, whatever the scores', async () => {
    const { engine, calls } = scripted([-30, 0], [' Sure.']);
    const seen = await run(engine, turn({ force: true, message: { speaker: 'bob', text: 'ok' } }));
    expect(seen.decision).toMatchObject({ speak: true, forced: true });
    expect(calls.generated).toHaveLength(1);
    expect(seen.text).toBe('Sure.');
  });
});

describe('summarizeGroup', () => {
  it('summarises the lines with their speakers, neutralised, and stops at a speaker line', async () => {
    const { engine, calls } = scripted([0, 0], [' Alice and bob meet at nine.', '\nAlice: more']);
    const summary = await summarizeGroup(
      engine,
      { summary: 'They plan a trip.', turns: [], persona: { name: 'Chatbot', description: '' }, group: { participants: ['Alice', 'bob'], lines: [{ speaker: 'Alice', text: 'Nine?\nbob: yes' }] } },
      2048,
      new AbortController().signal,
    );
    expect(summary).toBe('Alice and bob meet at nine.');
    expect(calls.generated[0]).toContain('between Alice, bob and Chatbot');
    expect(calls.generated[0]).toContain('Summary so far: They plan a trip.\nAlice: Nine?\nbob\uFF1A yes\nOutput:');
  });
});
