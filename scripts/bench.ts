/**
 * `npm run bench`: speed of the chat path on the generated phi model, through the app's own engine
 * (transformers.js on onnxruntime-node here; the browser runs the same code on WASM). Machines are
 * noisy, so the numbers that matter are ratios taken within one run. Results also go to
 * bench-results/latest.json.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { CodeGenTokenizer, env } from '@huggingface/transformers';
import { TEMPLATES } from '../prompts';
import { classifyMessage, reply } from '../workers/chat';
import { defaultChatSettings } from '../workers/defaults';
import { buildReplyPrompt, fillTemplate, formatHistory } from '../workers/prompt';
import type { Turn } from '../workers/protocol';
import { IncrementalDecoder } from '../workers/text-decoder';
import { TransformersEngine } from '../workers/transformers-engine';
import { scriptedConversation } from './scripted-conversation';
import { buildTestModel, writeTestModel } from './test-model/build';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
async function timeIt(runs: number, task: () => unknown | Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await task();
    times.push(performance.now() - start);
  }
  return median(times);
}

const dir = await mkdtemp(join(tmpdir(), 'phi-bench-'));
const model = buildTestModel();
await writeTestModel(join(dir, 'phi-tiny'), model);
const json = (path: string) => JSON.parse(new TextDecoder().decode(model.files.get(path)!));
const tokenizer = new CodeGenTokenizer(json('tokenizer.json'), json('tokenizer_config.json'));
env.cacheDir = join(dir, 'cache');
const server = createServer(async (request, response) => {
  const path = normalize(join(dir, decodeURIComponent(new URL(request.url!, 'http://x').pathname)));
  try {
    const body = await readFile(path);
    response.writeHead(200, { 'Content-Length': body.length, 'Content-Type': extname(path) === '.json' ? 'application/json' : 'application/octet-stream' }).end(body);
  } catch {
    response.writeHead(404).end();
  }
}).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/phi-tiny/`;

const engine = new TransformersEngine({ device: 'cpu' });
const loadMs = await timeIt(1, () => engine.load({ id: url, dtype: 'fp32', file: 'model', externalData: false }, () => {}));
const settings = defaultChatSettings();
const words = 'order refund price help please laptop screen delivery account invoice'.split(' ');
const sentence = (n: number, k: number) => Array.from({ length: n }, (_, i) => words[(i * 7 + k) % words.length]).join(' ');
const history: Turn[] = Array.from({ length: 200 }, (_, k) => ({ user: sentence(20 + (k % 30), k), assistant: sentence(40 + (k % 50), k + 3) }));

// 1. Classification: one forward pass over the prompt scores all three labels.
const classifyMs = await timeIt(20, () => classifyMessage(engine, 'My laptop screen is broken, can you help?', undefined, 'Chatbot', 2048));

// 2. A whole reply through the real chat path: time to first token and decode speed.
const stats = [];
for (let i = 0; i < 5; i++) {
  const { stats: s } = await reply(engine, { history: history.slice(-3), message: 'Tell me about your plans', settings: { ...settings, generation: { ...settings.generation, maxNewTokens: 64 } }, intent: 'auto' }, 2048, { onIntent() {}, onPrompt() {}, onText() {} }, new AbortController().signal);
  stats.push(s);
}

// 3. Fitting 200 turns to the window: binary search over how many turns fit, against dropping the
//    oldest turn one at a time (what a first implementation would do).
const count = (text: string) => engine.countTokens(text);
const fitInput = { template: TEMPLATES.reply, instructions: settings.instructions.support, history, message: 'Where is my order?', countTokens: count, budget: 2048 - 256 };
const binaryMs = await timeIt(5, () => buildReplyPrompt(fitInput));
const linearMs = await timeIt(5, () => {
  for (let keep = history.length; keep >= 0; keep--) {
    const prompt = fillTemplate(TEMPLATES.reply, { persona: '', summary: '', history: formatHistory(history.slice(history.length - keep)), instructions: 'x', message: 'Where is my order?', bot: 'Chatbot' });
    if (count(prompt) <= fitInput.budget) return prompt;
  }
});

// 4. Streaming decode: the text each new token adds, with split characters held back. The decoder
//    decodes a short window per token; re-decoding the whole reply each token is the baseline. Cost
//    per token at 1024 tokens against 16 says whether it grows with the reply.
const ids = Array.from({ length: 1024 }, (_, i) => 256 + (i % 300));
const decodeText = (x: number[]) => tokenizer.decode(x, { skip_special_tokens: true });
const perToken = async (n: number, next: () => (ids: number[]) => unknown) =>
  (await timeIt(5, () => {
    const step = next();
    for (let i = 1; i <= n; i++) step(ids.slice(0, i));
  })) / n;
const windowed = () => {
  const decoder = new IncrementalDecoder(decodeText);
  return (x: number[]) => decoder.next(x);
};
const decode16 = await perToken(16, windowed);
const decode1024 = await perToken(1024, windowed);
const wholeReply1024 = await perToken(1024, () => decodeText);

// 5. Prefill per turn in a scripted 12-turn conversation that fills the window: tokens run through
//    the model for each reply, with the KV cache reused and with a full prefill every turn.
const prefillPerTurn: Record<string, number[]> = {};
for (const kvReuse of [true, false]) {
  const scripted = new TransformersEngine({ device: 'cpu', kvReuse });
  await scripted.load({ id: url, dtype: 'fp32', file: 'model', externalData: false }, () => {});
  prefillPerTurn[kvReuse ? 'reuse' : 'full'] = (await scriptedConversation(scripted)).map((turn) => turn.reply.computed);
  await scripted.unload();
}

const results = {
  loadMs: Math.round(loadMs),
  classifyMs: Number(classifyMs.toFixed(2)),
  firstTokenMs: median(stats.map((s) => s.firstTokenMs)),
  prefillTokensPerSecond: median(stats.map((s) => s.prefillTokensPerSecond)),
  decodeTokensPerSecond: median(stats.map((s) => s.decodeTokensPerSecond)),
  promptFit200Turns: { binaryMs: Number(binaryMs.toFixed(1)), linearMs: Number(linearMs.toFixed(1)), speedup: Number((linearMs / binaryMs).toFixed(1)) },
  replyPrefillPerTurn: { ...prefillPerTurn, ratio: Number((prefillPerTurn.full.reduce((a, b) => a + b) / prefillPerTurn.reuse.reduce((a, b) => a + b)).toFixed(2)) },
  streamingDecodePerToken: {
    at16Ms: Number(decode16.toFixed(4)),
    at1024Ms: Number(decode1024.toFixed(4)),
    growth: Number((decode1024 / decode16).toFixed(1)),
    wholeReplyAt1024Ms: Number(wholeReply1024.toFixed(4)),
    speedup: Number((wholeReply1024 / decode1024).toFixed(1)),
  },
};
console.table({
  'load (ms)': results.loadMs,
  'classify (ms)': results.classifyMs,
  'first token (ms)': results.firstTokenMs,
  'prefill (tok/s)': results.prefillTokensPerSecond,
  'decode (tok/s)': results.decodeTokensPerSecond,
  'fit 200 turns, binary (ms)': results.promptFit200Turns.binaryMs,
  'fit 200 turns, linear (ms)': results.promptFit200Turns.linearMs,
  'fit speedup (linear / binary)': results.promptFit200Turns.speedup,
  'stream decode cost per token, 1024 vs 16 tokens': results.streamingDecodePerToken.growth,
  'stream decode speedup at 1024 (whole reply / window)': results.streamingDecodePerToken.speedup,
  '12-turn reply prefill, full / with KV reuse (tokens)': results.replyPrefillPerTurn.ratio,
});
await mkdir('bench-results', { recursive: true });
await writeFile('bench-results/latest.json', `${JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2)}\n`);
await engine.unload();
server.close();
await rm(dir, { recursive: true, force: true });
