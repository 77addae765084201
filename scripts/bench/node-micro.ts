/**
 * Costs of pure chat logic on the model's tokenizer, in Node (they do not depend on the runtime): fitting a long conversation to the window, and decoding a stream token by token.
 */
import { TEMPLATES } from '../../prompts';
import { defaultChatSettings } from '../../workers/defaults';
import { buildReplyPrompt, fillTemplate, formatHistory } from '../../workers/prompt';
import type { Turn } from '../../workers/protocol';
import { IncrementalDecoder } from '../../workers/text-decoder';
import { median } from './report';

async function timeIt(runs: number, task: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await task();
    times.push(performance.now() - start);
  }
  return median(times);
}

export async function nodeMicroBenchmarks(count: (text: string) => number, decodeText: (ids: number[]) => string, sentence: (n: number, k: number) => string) {
  const settings = defaultChatSettings();
  const history: Turn[] = Array.from({ length: 200 }, (_, k) => ({ user: sentence(20 + (k % 30), k), assistant: sentence(40 + (k % 50), k + 3) }));
  // Binary search over how many turns fit, against dropping the oldest turn one at a time.
  const fitInput = { template: TEMPLATES.reply, instructions: settings.instructions.support, history, message: 'Where is my order?', countTokens: count, budget: 2048 - 256 };
  const binaryMs = await timeIt(5, () => buildReplyPrompt(fitInput));
  // The baselines are slow by design: once is enough to show it.
  const linearMs = await timeIt(1, () => {
    for (let keep = history.length; keep >= 0; keep--) {
      const prompt = fillTemplate(TEMPLATES.reply, { persona: '', summary: '', history: formatHistory(history.slice(history.length - keep)), instructions: 'x', message: 'Where is my order?', bot: 'Chatbot' });
      if (count(prompt) <= fitInput.budget) return prompt;
    }
  });
  // The decoder decodes a short window per token; re-decoding the whole reply each token is the
  // baseline. Cost per token at 1024 tokens against 16 says whether it grows with the reply.
  const ids = Array.from({ length: 1024 }, (_, i) => 256 + (i % 300));
  const perToken = async (n: number, next: () => (ids: number[]) => unknown, runs = 3) =>
    (await timeIt(runs, () => {
      const step = next();
      for (let i = 1; i <= n; i++) step(ids.slice(0, i));
    })) / n;
  const windowed = () => {
    const decoder = new IncrementalDecoder(decodeText);
    return (x: number[]) => decoder.next(x);
  };
  const decode16 = await perToken(16, windowed);
  const decode1024 = await perToken(1024, windowed);
  const wholeReply1024 = await perToken(1024, () => decodeText, 1);
  return {
    promptFit200Turns: { binaryMs: Number(binaryMs.toFixed(1)), linearMs: Number(linearMs.toFixed(1)), speedup: Number((linearMs / binaryMs).toFixed(1)) },
    streamingDecodePerToken: {
      at16Ms: Number(decode16.toFixed(4)),
      at1024Ms: Number(decode1024.toFixed(4)),
      growth: Number((decode1024 / decode16).toFixed(1)),
      wholeReplyAt1024Ms: Number(wholeReply1024.toFixed(4)),
      speedup: Number((wholeReply1024 / decode1024).toFixed(1)),
    },
  };
}
