/**
 * `npm run bench`: the chat path's speed, measured in headless Chromium on the built app (the
 * worker, engine and UI a user runs, served by scripts/serve.ts), against the same engine in a bare
 * worker and on onnxruntime-node. Machines are noisy, so every headline figure is a ratio of two
 * things measured in the same run. Writes bench-results/latest.{json,md} and tokens-per-second.svg.
 *   npm run bench [-- --shape phi-tiny|phi-2-small|phi-2] [--port 5890] [--runs 3] [--only pipeline,turns,long]
 * `--only` measures some figures alone (default: all on the tiny model; pipeline and turns at phi-2-small; turns at phi-2). The bytes are always measured;
 * threads and browser ÷ native come with the pipeline, whose prompt they reuse).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CodeGenTokenizer } from '@huggingface/transformers';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/browser';
import { defaultChatSettings } from '../workers/defaults';
import { FOLD_TRIGGER, formatHistory } from '../workers/prompt';
import type { GenerationParams, ModelSource } from '../workers/protocol';
import { TransformersEngine } from '../workers/transformers-engine';
import { blockExternal, importConversation, newChat, openApp, records, sendAndWait, type Turn } from './bench/app-page';
import { measureReply } from './bench/bare/measure';
import type { BareLoad, BareLoaded, BareResult, BareRun } from './bench/bare/protocol';
import { FIRST_PAINT_BUDGET, measureBundle } from './bench/bytes';
import { nodeMicroBenchmarks } from './bench/node-micro';
import { childrenRunning, samplePeakRss } from './bench/memory';
import { pageCpuWithin, sampleThreadTimes } from './bench/thread-cpu';
import { barChartSvg, headlineTable, markdownTable, median, ratio, tokensPerSecond, type Bar, type Headline } from './bench/report';

const { values: args } = parseArgs({
  options: {
    shape: { type: 'string', default: 'phi-tiny' },
    port: { type: 'string', default: '5890' },
    runs: { type: 'string', default: '3' },
    // Unset: every figure on the tiny model; at phi-2's width the pipeline and the 12 turns; at its full size the 12 turns.
    only: { type: 'string' },
  },
});
const FIGURES = ['pipeline', 'turns', 'long'];
const SHAPES = ['phi-tiny', 'phi-2-small', 'phi-2'];
const shape = args.shape;
if (!SHAPES.includes(shape)) fail(`Unknown shape "${shape}": choose one of ${SHAPES.join(', ')}.`);
const tiny = shape === 'phi-tiny';
const DEFAULT_FIGURES: Record<string, string> = { 'phi-tiny': 'pipeline,turns,long', 'phi-2-small': 'pipeline,turns', 'phi-2': 'turns' };
const only = new Set((args.only ?? DEFAULT_FIGURES[shape]!).split(',').map((f) => f.trim()));
for (const figure of only) if (!FIGURES.includes(figure)) fail(`Unknown figure "${figure}" in --only: choose from ${FIGURES.join(', ')}.`);
// The tiny model is the generated fp32 one; the phi-2 shapes are laid out like the hosted phi-2.
const modelFile = tiny ? 'e2e/.model/phi-tiny/onnx/model.onnx' : `e2e/.model/${shape}/onnx/decoder_model_merged_quantized.onnx`;
if (!existsSync(modelFile)) {
  fail(
    tiny
      ? 'The generated test model is missing (e2e/.model/phi-tiny/): run `npm run test-model` first.'
      : `The ${shape} model is missing (${modelFile}): generate it with \`npm run test-model -- --shape ${shape}\` (about ${shape === 'phi-2' ? '2.8 GB' : 'a few hundred MB'}), then run the benchmark again.`,
  );
}
const modelJson = (name: string) => JSON.parse(readFileSync(`e2e/.model/${shape}/${name}`, 'utf8'));
/** The model's own tokenizer, in Node: the prefill bounds and the pure-logic figures count with it. */
const tokenizer = new CodeGenTokenizer(modelJson('tokenizer.json'), modelJson('tokenizer_config.json'));
const countTokens = (text: string) => tokenizer.encode(text).length;
const RUNS = Math.max(1, Number(args.runs));
const APP_PORT = Number(args.port);
const BARE_PORT = APP_PORT + 1;
const APP = `http://127.0.0.1:${APP_PORT}/`;
const BARE = `http://127.0.0.1:${BARE_PORT}/`;
const source = (origin: string): ModelSource =>
  tiny
    ? { id: `${origin}models/phi-tiny/`, dtype: 'fp32', file: 'model', externalData: false }
    : { id: `${origin}models/${shape}/`, dtype: 'q8', file: 'decoder_model_merged', externalData: true };
const appLink = (kv: 'on' | 'off' = 'on') => {
  const model = source(APP);
  const params = new URLSearchParams({ model: new URL(model.id).pathname, dtype: model.dtype, file: model.file, webllm: '/webllm/' });
  if (model.externalData) params.set('external', '1');
  if (kv === 'off') params.set('kv', 'off');
  return `${APP}?${params}`;
};

type TurnRow = Awaited<ReturnType<typeof twelveTurns>>['turns'][number];

const benchStart = performance.now();
const step = (what: string) => console.log(`[${((performance.now() - benchStart) / 1000).toFixed(0)} s] ${what}`);

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const words = 'order refund price help please laptop screen delivery account invoice'.split(' ');
const sentence = (n: number, k: number) => Array.from({ length: n }, (_, i) => words[(i * 7 + k) % words.length]).join(' ');
const MESSAGE = 'Tell me about your laptops and how delivery works';
/** Greedy, so the app and the bare engine write the same tokens from the same prompt. */
const GREEDY: GenerationParams = { maxNewTokens: 256, temperature: 0, topK: 50, topP: 0.9, repetitionPenalty: 1.15 };
const BOT = 'Chatbot';
/** The pipeline's replies: long on the tiny model (about a millisecond a token), short at phi-2's width (about 0.1 s a token here). */
const PIPELINE: GenerationParams = tiny ? GREEDY : { ...GREEDY, maxNewTokens: 48 };

console.log('Building the app and the bench-only bare worker…');
// vite-node runs this script with NODE_ENV=development, which would build Svelte's dev mode.
const production = { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } } as const;
execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], production);
execFileSync('npx', ['vite', 'build', '--config', 'scripts/bench/bare/vite.config.ts', '--logLevel', 'warn'], production);

const servers: ChildProcess[] = [];
async function serve(port: number, extra: string[]) {
  // A process group of its own, so stopping it also stops the node process tsx starts.
  const server = spawn('npx', ['tsx', 'scripts/serve.ts', '--port', String(port), '--models', 'e2e/.model', ...extra], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Serving') && resolve());
    server.once('exit', (code) => reject(new Error(`scripts/serve.ts on port ${port} exited with ${code}`)));
  });
}

let browser: Browser | null = null;
const blocked: string[] = [];
async function context(origin: string) {
  const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
  await blockExternal(ctx, origin, blocked);
  return ctx;
}

/** The bench-only page: a fresh bare worker per load, then as many replies on it as asked. */
const bareLoad = (page: Page, request: BareLoad): Promise<BareLoaded> => page.evaluate((r) => window.bareLoad(r), request);
const bareRun = (page: Page, request: BareRun): Promise<BareResult> => page.evaluate((r) => window.bareRun(r), request);

/** A stream's decode speed as the app's worker reports it, and as the user sees it on screen. */
async function uiReply(page: Page, message: string) {
  await page.evaluate(() => {
    const bench = (window as unknown as { __bench: { text: unknown[]; watchText: boolean } }).__bench;
    bench.text = [];
    bench.watchText = true;
  });
  const turn = await sendAndWait(page, message);
  // The last frame of the finished reply is drawn after `done`.
  await page.waitForTimeout(200);
  const { text } = await records(page);
  await page.evaluate(() => ((window as unknown as { __bench: { watchText: boolean } }).__bench.watchText = false));
  const seen = text.filter((r) => r.t >= turn.sentAt);
  const screenMs = seen.length > 1 ? seen.at(-1)!.t - seen[0].t : 0;
  return { turn, screenTokensPerSecond: tokensPerSecond(turn.stats.replyTokens, screenMs), screenMs, firstTextAt: seen[0]?.t ?? 0, lastTextAt: seen.at(-1)?.t ?? 0 };
}

/**
 * The history the 12 turns start from. On the tiny model and at phi-2's width: 40 turns, more than
 * the window holds, so the app first folds what the prompt leaves out into the summary (seconds
 * there). At phi-2's full size the CPU window is 704 tokens and a summary step writes about a token
 * a second, so folding 40 turns took longer than the bench waits: there the history fills the
 * prompt's budget up to about the fold trigger (the preamble, instructions and message take the
 * rest), and the only folds are the ones the 12 turns themselves bring.
 */
function storedHistory(budget: number, countTokens: (text: string) => number) {
  const turn = (k: number) => ({ user: sentence(20 + (k % 7), k), reply: sentence(40 + (k % 11), k + 3) });
  if (shape !== 'phi-2') return Array.from({ length: 40 }, (_, k) => turn(k));
  const room = budget * FOLD_TRIGGER - 100;
  const rendered = (turns: { user: string; reply: string }[]) => countTokens(formatHistory(turns.map((t) => ({ user: t.user, assistant: t.reply }))));
  const history: { user: string; reply: string }[] = [];
  while (rendered([...history, turn(history.length)]) <= room) history.push(turn(history.length));
  return history;
}

/**
 * The 12-turn conversation, after a stored history that already fills the window. Each turn's
 * prefill is held to issue 8's bound: from turn 2 on, the reply runs at most the previous turn, the
 * new message, the intent's instructions and 64 tokens through the model (except where the
 * prompt's start changed: older turns left out or folded into the summary), and classification at
 * most its own short prompt's message part.
 */
async function twelveTurns(kv: 'on' | 'off', generation: GenerationParams, countTokens: (text: string) => number) {
  const ctx = await context(APP);
  const load = await openApp(ctx, appLink(kv), { ...generation });
  const { page } = load;
  const history = storedHistory(load.contextSize - (generation.maxNewTokens ?? 0), countTokens);
  await importConversation(page, `Twelve turns, reuse ${kv}`, history);
  const messages = Array.from({ length: 12 }, (_, i) => `${sentence(12 + (i % 5), i + 1)}?`);
  const turns: Turn[] = [];
  for (const message of messages) {
    const turn = await sendAndWait(page, message);
    turns.push(turn);
    step(`turn ${turns.length} of 12, reuse ${kv}: first token ${Math.round(turn.stats.firstTokenMs)} ms${turn.folded ? ', then a fold' : ''}`);
  }
  await ctx.close();
  const instructions = defaultChatSettings().instructions;
  const rows = turns.map((t, i) => {
    const before = turns[i - 1];
    // The prompt's start moved: the turn before asked for a fold, or this prompt left out a turn the last one read.
    const startMoved = i > 0 && (before.folded || t.prompt.turnsUsed < before.prompt.turnsUsed + 1 || t.prompt.summarized !== before.prompt.summarized);
    const replyBound =
      i === 0 ? null : countTokens(formatHistory([{ user: messages[i - 1], assistant: before.replyText }])) + countTokens(messages[i]) + countTokens(instructions[t.route]) + 64;
    const classifyBound = countTokens(`Message: ${messages[i]}\nOutput: The category is`) + 2;
    const classifyPrefill = t.stats.classifyPrefill ?? null;
    const replyPrefill = t.stats.replyPrefill ?? null;
    return {
      turn: i + 1,
      promptTokens: t.stats.promptTokens,
      classifyPrefill,
      replyPrefill,
      replyBound,
      classifyBound,
      startMoved,
      // Held to the bound: turns 2–12 whose prompt kept its start.
      withinBound: i === 0 || startMoved || !replyPrefill || !classifyPrefill ? null : replyPrefill.computed <= replyBound! && classifyPrefill.computed <= classifyBound,
      classifyMs: t.stats.classifyMs,
      firstTokenMs: t.stats.firstTokenMs,
      decodeTokensPerSecond: t.stats.decodeTokensPerSecond,
      folded: t.folded,
    };
  });
  return { turns: rows, load: { loadMs: load.loadMs, threads: load.threads } };
}

/** A stored conversation of 500 messages, then a 1,000-token reply: long tasks and IndexedDB writes while it streams. */
async function longConversation() {
  const ctx = await context(APP);
  const { page } = await openApp(ctx, appLink(), { ...GREEDY, maxNewTokens: 1024 });
  const turns = Array.from({ length: 250 }, (_, k) => ({ user: sentence(10 + (k % 15), k), reply: sentence(20 + (k % 40), k + 5) }));
  await importConversation(page, 'Five hundred messages', turns);
  await page.evaluate(() => {
    const bench = (window as unknown as { __bench: { longTasks: unknown[]; writes: unknown[] } }).__bench;
    bench.longTasks = [];
    bench.writes = [];
  });
  const turn = await sendAndWait(page, MESSAGE);
  const { wire, longTasks, writes } = await records(page);
  const chatId = wire.find((r) => r.direction === 'sent' && r.type === 'chat' && r.t >= turn.sentAt)!.id;
  const first = wire.find((r) => r.id === chatId && r.type === 'token')!.t;
  const done = wire.find((r) => r.id === chatId && r.type === 'done')!.t;
  const during = <T extends { t: number }>(list: T[]) => list.filter((r) => r.t >= first && r.t <= done);
  const streamSeconds = (done - first) / 1000;
  const streamWrites = during(writes);
  await ctx.close();
  return {
    messages: turns.length * 2,
    replyTokens: turn.stats.replyTokens,
    streamMs: Math.round(done - first),
    longestTaskMs: Math.round(Math.max(0, ...during(longTasks).map((t) => t.duration))),
    longTasks: during(longTasks).length,
    indexedDbWrites: streamWrites.length,
    writesByStore: Object.fromEntries([...new Set(streamWrites.map((w) => w.store))].map((s) => [s, streamWrites.filter((w) => w.store === s).length])),
    writesPerSecond: Math.round((streamWrites.length / streamSeconds) * 100) / 100,
  };
}

/** The same replies on onnxruntime-node, in this process. */
async function native(threads: number, request: BareRun, runs: number) {
  const engine = new TransformersEngine({ device: 'cpu', threads });
  const { contextSize } = await engine.load(source(APP), () => {});
  const results: BareResult[] = [];
  // One reply unmeasured first, as in the browser: onnxruntime-node's first passes are slower too.
  await measureReply(engine, request, contextSize);
  for (let i = 0; i < runs; i++) results.push(await measureReply(engine, request, contextSize));
  await engine.unload();
  return results;
}

const microLine = ({ promptFit200Turns: fit, streamingDecodePerToken: decode }: Awaited<ReturnType<typeof nodeMicroBenchmarks>>) =>
  `Pure logic, in Node: fitting 200 turns to the window takes ${fit.binaryMs} ms by binary search against ${fit.linearMs} ms turn by turn (${fit.speedup}×); ` +
  `streaming decode costs ${decode.growth}× as much per token at 1,024 tokens as at 16, and re-decoding the whole reply would cost ${decode.speedup}× more.`;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const decodeRate = (r: { replyTokens: number; streamMs: number }) => tokensPerSecond(r.replyTokens, r.streamMs);

try {
  await serve(APP_PORT, []);
  await serve(BARE_PORT, ['--root', 'node_modules/.bench/bare']);
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  // Other work on the machine slows every figure: the load average says how busy it was.
  const results: Record<string, unknown> = { date: new Date().toISOString(), shape, runs: RUNS, nodeCores: cpus().length, loadAverageAtStart: loadavg()[0] };
  const headlines: Headline[] = [];
  const bars: Bar[] = [];
  const bytes = measureBundle('dist');
  results.bytes = bytes;

  if (only.has('pipeline')) {
    step('pipeline efficiency');
    // 1. Pipeline efficiency, and 5. classification's forward passes, from the same prompts.
    const appCtx = await context(APP);
    const app = await openApp(appCtx, appLink(), { ...PIPELINE });
    const bareCtx = await context(BARE);
    const barePage = await bareCtx.newPage();
    await barePage.goto(BARE);
    const bareApp = await bareLoad(barePage, { source: source(BARE) });
    if (bareApp.threads !== app.threads) throw new Error(`The bare worker runs ${bareApp.threads} threads, the app ${app.threads}.`);
    const pipeline = [];
    let prompt = '';
    // The CPU the page spends while a reply streams: on two cores it is taken from onnxruntime's threads.
    const chromiumPid = childrenRunning(CHROMIUM_PATH)[0];
    const pageCpuPerToken = async <T>(run: () => Promise<T>, streamed: (result: T) => { from: number; to: number; tokens: number }) => {
      const sampler = sampleThreadTimes(chromiumPid);
      const result = await run();
      const { from, to, tokens } = streamed(result);
      const perToken = (ms: number) => round(ms / Math.max(1, tokens - 1));
      const spent = pageCpuWithin(sampler.stop(), from, to);
      return { result, msPerToken: perToken(spent.ms), threads: Object.fromEntries(spent.threads.slice(0, 6).map(([name, ms]) => [name, perToken(ms)])) };
    };
    const appTimeOrigin = await app.page.evaluate(() => performance.timeOrigin);
    // One reply each first, unmeasured: both sides then run warm (compiled, their caches allocated).
    for (let i = -1; i < RUNS; i++) {
      if (i > -1) await newChat(app.page);
      const { result: ui, msPerToken: appPageMs, threads: appPageThreads } = await pageCpuPerToken(
        () => uiReply(app.page, MESSAGE),
        (r) => ({ from: appTimeOrigin + r.firstTextAt, to: appTimeOrigin + r.lastTextAt, tokens: r.turn.stats.replyTokens }),
      );
      prompt = ui.turn.prompt.text;
      const { result: baseline, msPerToken: barePageMs } = await pageCpuPerToken(
        () => bareRun(barePage, { prompt, params: PIPELINE, bot: BOT, classify: MESSAGE }),
        (r) => ({ from: r.firstTextAt, to: r.lastTextAt, tokens: r.replyTokens }),
      );
      if (i < 0) continue;
      pipeline.push({
        sameText: ui.turn.replyText === baseline.text,
        screenTokensPerSecond: ui.screenTokensPerSecond,
        workerTokensPerSecond: ui.turn.stats.decodeTokensPerSecond,
        bareTokensPerSecond: decodeRate(baseline),
        uiReplyTokens: ui.turn.stats.replyTokens,
        bareReplyTokens: baseline.replyTokens,
        uiClassifyMs: ui.turn.stats.classifyMs,
        uiFirstTokenMs: ui.turn.stats.firstTokenMs,
        bareClassifyMs: round(baseline.classifyMs ?? 0),
        classifyForwardPasses: baseline.classifyForwardPasses,
        appPageCpuMsPerToken: appPageMs,
        appPageCpuByThread: appPageThreads,
        barePageCpuMsPerToken: barePageMs,
      });
    }
    await appCtx.close();
    results.load = { appMs: Math.round(app.loadMs), bareMs: Math.round(bareApp.loadMs) };
    const screen = median(pipeline.map((p) => p.screenTokensPerSecond));
    const worker = median(pipeline.map((p) => p.workerTokensPerSecond));
    const bareRate = median(pipeline.map((p) => p.bareTokensPerSecond));
    const pipelineRatio = ratio(screen, bareRate);
    const appPageCpu = median(pipeline.map((p) => p.appPageCpuMsPerToken));
    const barePageCpu = median(pipeline.map((p) => p.barePageCpuMsPerToken));
    results.pipeline = { runs: pipeline, screenTokensPerSecond: screen, workerTokensPerSecond: worker, bareTokensPerSecond: bareRate, ratio: pipelineRatio, appThreads: app.threads, appPageCpuMsPerToken: appPageCpu, barePageCpuMsPerToken: barePageCpu };
    headlines.push({
      figure: 'Pipeline efficiency (UI ÷ bare worker, decode tok/s)',
      ratio: pipelineRatio,
      target: '≥ 0.95',
      met: pipelineRatio !== null && pipelineRatio >= 0.95,
      raw: `on screen ${screen} tok/s (the app's worker reports ${worker}), bare worker ${bareRate} tok/s; ${pipeline[0].uiReplyTokens} vs ${pipeline[0].bareReplyTokens} tokens, ${pipeline.every((p) => p.sameText) ? 'the same text' : 'DIFFERENT TEXTS'}; while the text streams, the CPU outside the workers (the page, its drawing, the browser) is ${appPageCpu} ms a token beside the app and ${barePageCpu} beside the bare worker; median of ${RUNS} after a warm-up`,
    });
    bars.push({ label: `App, on screen (${app.threads} thread${app.threads === 1 ? '' : 's'})`, value: screen }, { label: `Bare worker (${app.threads} thread${app.threads === 1 ? '' : 's'})`, value: bareRate });

    step('threads');
    // 2. Threads: a fresh bare worker per count (onnxruntime fixes its thread count once per worker).
    const threadRequest: BareRun = { prompt, params: PIPELINE, bot: BOT };
    const counts = [...new Set([1, 2, app.threads])].sort((a, b) => a - b);
    const byThreads = new Map<number, number[]>([[app.threads, pipeline.map((p) => p.bareTokensPerSecond)]]);
    const browserCores = bareApp.hardwareConcurrency;
    for (const n of counts.filter((c) => c !== app.threads)) {
      const loaded = await bareLoad(barePage, { source: source(BARE), threads: n });
      if (loaded.threads !== n) throw new Error(`Asked the bare worker for ${n} threads, it runs ${loaded.threads}.`);
      const rates: number[] = [];
      // A fresh worker: one reply unmeasured first, as for the app's count.
      await bareRun(barePage, threadRequest);
      for (let i = 0; i < RUNS; i++) rates.push(decodeRate(await bareRun(barePage, threadRequest)));
      byThreads.set(n, rates);
    }
    await bareCtx.close();
    const threadRates = counts.map((n) => ({ threads: n, decodeTokensPerSecond: median(byThreads.get(n)!), runs: byThreads.get(n)! }));
    const rateAt = (n: number) => threadRates.find((t) => t.threads === n)!.decodeTokensPerSecond;
    results.threads = { cores: browserCores, crossOriginIsolated: bareApp.crossOriginIsolated, appThreads: app.threads, rates: threadRates, appOverOne: ratio(rateAt(app.threads), rateAt(1)), twoOverOne: ratio(rateAt(2), rateAt(1)) };
    headlines.push({
      figure: `Threads (app's ${app.threads} ÷ 1, decode tok/s)`,
      ratio: ratio(rateAt(app.threads), rateAt(1)),
      target: '',
      raw: `${browserCores} cores, cross-origin isolated: ${bareApp.crossOriginIsolated}; ${threadRates.map((t) => `${t.threads} thread${t.threads === 1 ? '' : 's'} ${t.decodeTokensPerSecond} tok/s`).join(', ')}; 2 ÷ 1 = ${ratio(rateAt(2), rateAt(1))}`,
    });
    for (const t of threadRates) if (t.threads !== app.threads) bars.push({ label: `Bare worker (${t.threads} thread${t.threads === 1 ? '' : 's'})`, value: t.decodeTokensPerSecond });

    step('browser ÷ native');
    // 3. Browser ÷ native, at the same thread counts.
    const nativeRates = new Map<number, number[]>();
    for (const n of counts) nativeRates.set(n, (await native(n, threadRequest, RUNS)).map(decodeRate));
    const nativeRows = counts.map((n) => ({ threads: n, nodeTokensPerSecond: median(nativeRates.get(n)!), browserTokensPerSecond: rateAt(n), ratio: ratio(rateAt(n), median(nativeRates.get(n)!)) }));
    results.native = nativeRows;
    const atApp = nativeRows.find((r) => r.threads === app.threads)!;
    headlines.push({
      figure: `Browser ÷ native (WASM ÷ onnxruntime-node, ${app.threads} thread${app.threads === 1 ? '' : 's'})`,
      ratio: atApp.ratio,
      target: '≥ 0.6',
      met: atApp.ratio !== null && atApp.ratio >= 0.6,
      raw: nativeRows.map((r) => `${r.threads} thread${r.threads === 1 ? '' : 's'}: Chromium ${r.browserTokensPerSecond}, Node ${r.nodeTokensPerSecond} tok/s (${r.ratio})`).join('; '),
    });
    for (const r of nativeRows) bars.push({ label: `onnxruntime-node (${r.threads} thread${r.threads === 1 ? '' : 's'})`, value: r.nodeTokensPerSecond });

    results.nodeMicro = await nodeMicroBenchmarks(
      countTokens,
      (ids) => tokenizer.decode(ids, { skip_special_tokens: true }),
      sentence,
    );

    const classifyPasses = pipeline[0].classifyForwardPasses;
    results.classificationShortPrompt = { forwardPasses: classifyPasses, classifyMs: median(pipeline.map((p) => p.uiClassifyMs)), firstTokenMs: median(pipeline.map((p) => p.uiFirstTokenMs)) };
  }

  // 4. Prefill per turn, and 5. classification against the first token, on a full window; the
  // real size (8.) times its first tokens on the same turns.
  let twelve: { withReuse: TurnRow[]; withoutReuse: TurnRow[]; loaded: { loadMs: number; threads: number }; peakRss: number | null } | null = null;
  if (only.has('turns')) {
    step('12-turn conversation, with and without reuse');
    const browserPid = childrenRunning(CHROMIUM_PATH)[0];
    const rssSampler = browserPid ? samplePeakRss(browserPid) : null;
    const turnGeneration = { ...GREEDY, maxNewTokens: 32 };
    const { turns: withReuse, load: loaded } = await twelveTurns('on', turnGeneration, countTokens);
    const { turns: withoutReuse } = await twelveTurns('off', turnGeneration, countTokens);
    twelve = { withReuse, withoutReuse, loaded, peakRss: rssSampler?.stop() ?? null };
    const countsAvailable = withReuse.some((t) => t.replyPrefill) && withoutReuse.some((t) => t.replyPrefill);
    const computed = (turns: TurnRow[]) => turns.slice(1).map((t) => (t.replyPrefill?.computed ?? 0) + (t.classifyPrefill?.computed ?? 0));
    const held = withReuse.filter((t) => t.withinBound !== null);
    const withinBound = countsAvailable && held.length > 0 && held.every((t) => t.withinBound);
    results.prefillPerTurn = { countsAvailable, withinBound, withReuse, withoutReuse };
    headlines.push({
      figure: 'Prefill per turn (tokens run through the model, turns 2–12, with ÷ without reuse)',
      ratio: countsAvailable ? ratio(median(computed(withReuse)), median(computed(withoutReuse))) : null,
      target: 'within bound',
      met: withinBound,
      raw: countsAvailable
        ? `median ${median(computed(withReuse))} vs ${median(computed(withoutReuse))} tokens (classification + reply); max with reuse ${Math.max(...computed(withReuse))}; ` +
          `${held.filter((t) => t.withinBound).length} of ${held.length} turns whose prompt kept its start within the bound (${withReuse.length - 1 - held.length} moved it)`
        : `the worker sends no prefill counts (ReplyStats.classifyPrefill/replyPrefill); reply prompts are ${median(withoutReuse.map((t) => t.promptTokens))} tokens (median)`,
    });
    const fullWindow = withReuse.slice(1);
    const classifyRatio = ratio(median(fullWindow.map((t) => t.classifyMs)), median(fullWindow.map((t) => t.firstTokenMs)));
    const passes = (results.classificationShortPrompt as { forwardPasses?: number } | undefined)?.forwardPasses;
    results.classification = { forwardPasses: passes ?? null, classifyMs: median(fullWindow.map((t) => t.classifyMs)), firstTokenMs: median(fullWindow.map((t) => t.firstTokenMs)), ratio: classifyRatio };
    headlines.push({
      figure: 'Classification (ms classifying ÷ ms to the reply\'s first token)',
      ratio: classifyRatio,
      target: '',
      raw: `${passes ?? '?'} forward pass${passes === 1 ? '' : 'es'}; ${median(fullWindow.map((t) => t.classifyMs))} ms vs ${median(fullWindow.map((t) => t.firstTokenMs))} ms on a full window (median of turns 2–12, reuse on)`,
    });
  }

  // 6. Bytes.
  const KB = 1024;
  headlines.push({
    figure: `JS before first paint (gzipped ÷ ${FIRST_PAINT_BUDGET / KB} KB budget)`,
    ratio: ratio(bytes.firstPaintJsGzip, FIRST_PAINT_BUDGET),
    target: '≤ 1',
    met: bytes.firstPaintJsGzip <= FIRST_PAINT_BUDGET,
    raw: `${round(bytes.firstPaintJsGzip / KB)} KB (${bytes.firstPaintFiles.join(', ')}); worker chunk ${round(bytes.workerChunkGzip / KB)} KB gzipped; precache ${round(bytes.precacheBytes / KB / KB)} MB in ${bytes.precacheEntries} files`,
  });

  // 7. Long conversation.
  if (tiny && only.has('long')) {
    step('long conversation');
    const long = await longConversation();
    results.longConversation = long;
    headlines.push({
      figure: 'Long conversation: longest main-thread task ÷ 50 ms',
      ratio: ratio(long.longestTaskMs, 50),
      target: '< 1',
      met: long.longestTaskMs < 50,
      raw: `${long.messages} stored messages, ${long.replyTokens}-token reply streamed in ${long.streamMs} ms; ${long.longTasks} long task${long.longTasks === 1 ? '' : 's'}, longest ${long.longestTaskMs} ms`,
    });
    headlines.push({
      figure: 'Long conversation: IndexedDB writes per second ÷ 3',
      ratio: ratio(long.writesPerSecond, 3),
      target: '≤ 1',
      met: long.writesPerSecond <= 3,
      raw: `${long.indexedDbWrites} writes in ${round(long.streamMs / 1000, 2)} s (${Object.entries(long.writesByStore).map(([s, n]) => `${s} ${n}`).join(', ')}) = ${long.writesPerSecond}/s`,
    });
  }
  if (!tiny && twelve) {
    // 8. Real size: load, memory, first token at turns 1 and 10, decode.
    const { withReuse, withoutReuse, loaded, peakRss } = twelve;
    const at = (turns: TurnRow[], n: number) => turns[n - 1].firstTokenMs;
    results.realSize = {
      loadMs: Math.round(loaded.loadMs),
      peakRssBytes: peakRss,
      threads: loaded.threads,
      firstTokenMs: { turn1: { reuse: at(withReuse, 1), noReuse: at(withoutReuse, 1) }, turn10: { reuse: at(withReuse, 10), noReuse: at(withoutReuse, 10) } },
      decodeTokensPerSecond: median(withReuse.map((t) => t.decodeTokensPerSecond)),
    };
    headlines.push({
      figure: 'Real size: first token at turn 10, with ÷ without reuse',
      ratio: ratio(at(withReuse, 10), at(withoutReuse, 10)),
      target: '',
      raw: `load ${Math.round(loaded.loadMs)} ms, peak RSS of Chromium ${peakRss === null ? 'unknown' : `${round(peakRss / KB ** 3, 2)} GB`}, ${loaded.threads} threads; first token turn 1 ${at(withReuse, 1)} / ${at(withoutReuse, 1)} ms, turn 10 ${at(withReuse, 10)} / ${at(withoutReuse, 10)} ms (reuse / none); decode ${median(withReuse.map((t) => t.decodeTokensPerSecond))} tok/s`,
    });
    bars.push({ label: `App decode, ${shape} (${loaded.threads} threads)`, value: median(withReuse.map((t) => t.decodeTokensPerSecond)) });
  }
  if (blocked.length) throw new Error(`Requests left the device: ${blocked.join(', ')}`);

  const count = (p: { cached: number; computed: number } | null) => (p ? `${p.computed} run, ${p.cached} cached` : 'unavailable');
  const prefillRows = (twelve?.withReuse ?? []).map((t, i) => {
    const off = twelve!.withoutReuse[i];
    const bound = t.replyBound === null ? '' : `≤ ${t.replyBound} / ≤ ${t.classifyBound}${t.startMoved ? ' (start moved)' : t.withinBound ? ' ✓' : ' ✗'}`;
    return [String(t.turn), String(t.promptTokens), count(t.classifyPrefill), count(t.replyPrefill), bound, count(off.classifyPrefill), count(off.replyPrefill), `${t.firstTokenMs} / ${off.firstTokenMs}`, t.folded ? 'yes' : ''];
  });
  results.loadAverageAtEnd = loadavg()[0];
  const markdown = [
    `# Benchmark: ${shape}, ${results.date}`,
    '',
    'Every ratio divides two figures measured in this run. Targets from issue 8.',
    `${results.nodeCores} cores; load average ${round(results.loadAverageAtStart as number, 2)} at the start, ${round(results.loadAverageAtEnd as number, 2)} at the end.`,
    '',
    headlineTable(headlines),
    '',
    ...(results.nodeMicro ? [microLine(results.nodeMicro as Awaited<ReturnType<typeof nodeMicroBenchmarks>>), ''] : []),
    ...(twelve
      ? [
          '## Prefill per turn (12 turns after a history that fills the window)',
          '',
          'Bound (issue 8), reply / classification: the previous turn + the new message + the intent\'s instructions + 64; the message part of the classification prompt + 2. Not held where the prompt\'s start moved (turns left out or folded into the summary).',
          '',
          markdownTable(['Turn', 'Prompt tokens', 'Classify, reuse', 'Reply, reuse', 'Bound (reply / classify)', 'Classify, `?kv=off`', 'Reply, `?kv=off`', 'First token ms (reuse / off)', 'Fold after'], prefillRows),
          '',
        ]
      : []),
  ].join('\n');
  await mkdir('bench-results', { recursive: true });
  await writeFile('bench-results/latest.json', `${JSON.stringify(results, null, 2)}\n`);
  await writeFile('bench-results/latest.md', markdown);
  await writeFile('bench-results/tokens-per-second.svg', barChartSvg(`Decode tokens per second by configuration (${shape})`, 'tok/s', bars));
  console.log(`\n${markdown}\nWritten to bench-results/latest.json, latest.md and tokens-per-second.svg.`);
} finally {
  await browser?.close();
  for (const server of servers) if (server.pid) process.kill(-server.pid);
}
