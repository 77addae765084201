/**
 * Does phi-2 fit in a tab? Loads a phi-2-shaped generated model (`npm run test-model -- --shape
 * phi-2`) in headless Chromium through the built app, first from the server, then again from
 * IndexedDB after a reload, and reports for each: peak resident memory of the Chromium processes
 * (the renderer holds the page and its workers), time to ready, time to first token, and prefill
 * and decode speed from the reply's Details.
 *
 *   npx vite build && npx tsx scripts/measure-phi2.ts [--shape phi-2] [--port 5600] [--tokens 16]
 *
 * Not part of CI: the model is 2.8 GB and one reply takes minutes on a CPU.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/browser';
import { parentPid } from './bench/memory';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'phi-2' },
    port: { type: 'string', default: '5600' },
    tokens: { type: 'string', default: '16' },
    timeout: { type: 'string', default: '1800', short: 't' },
    // Instead: start a load from the server, Cancel loading while onnxruntime fills its heap (a
    // few seconds after the weights are in), and report the renderer's memory before and after.
    cancel: { type: 'boolean', default: false },
    // A message of this many words instead of a short question (how long a prompt fits), from the server only.
    words: { type: 'string' },
  },
});
const port = Number(values.port);
const timeout = Number(values.timeout) * 1000;
const origin = `http://127.0.0.1:${port}`;
const link =
  `${origin}/?model=${encodeURIComponent(`/models/${values.shape}/`)}&dtype=q8&file=decoder_model_merged&external=1` +
  `&webllm=${encodeURIComponent('/webllm/')}`;

const GiB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(2)} GiB`;

/** Resident memory of the Chromium processes this script started, by process type, sampled until stopped. */
class MemorySampler {
  private peaks = new Map<string, number>();
  /** The last sample's resident memory by process type. */
  latest = new Map<string, number>();
  private peakTotal = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly root: number) {}

  start() {
    this.peaks.clear();
    this.peakTotal = 0;
    this.timer = setInterval(() => this.sample(), 200);
  }

  stop() {
    clearInterval(this.timer);
    this.sample();
    return { totalPeak: this.peakTotal, byType: Object.fromEntries(this.peaks) };
  }

  private sample() {
    const parents = new Map<number, number>();
    const info = new Map<number, { rss: number; type: string }>();
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!pid) continue;
      try {
        parents.set(pid, parentPid(pid));
        const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (/chrom/i.test(cmdline.split('\0')[0] ?? '')) info.set(pid, { rss, type: /--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser' });
      } catch {
        // The process ended between listing and reading.
      }
    }
    const descends = (pid: number): boolean => pid === this.root || (parents.has(pid) && pid > 1 && descends(parents.get(pid)!));
    const now = new Map<string, number>();
    let total = 0;
    for (const [pid, { rss, type }] of info) {
      if (!descends(pid)) continue;
      total += rss;
      now.set(type, Math.max(now.get(type) ?? 0, rss));
    }
    for (const [type, rss] of now) this.peaks.set(type, Math.max(this.peaks.get(type) ?? 0, rss));
    this.peakTotal = Math.max(this.peakTotal, total);
    this.latest = now;
  }
}

async function waitForServer() {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${origin}/`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`The test server did not start on ${origin}.`);
}

/** Clicks Load model and waits for the engine line, or for the error the app shows instead. */
async function loadModel(page: Page): Promise<{ readyMs: number } | { error: string }> {
  await page.getByRole('button', { name: 'Load model' }).click();
  const started = Date.now();
  const ready = page.getByLabel('Engine').filter({ hasText: 'transformers.js' });
  const failed = page.getByRole('alert');
  try {
    await Promise.race([ready.waitFor({ timeout }), failed.first().waitFor({ timeout })]);
  } catch {
    return { error: `not ready after ${timeout / 1000} s` };
  }
  if (await ready.isVisible()) return { readyMs: Date.now() - started };
  return { error: (await failed.first().textContent()) ?? 'unknown error' };
}

async function replyOnce(page: Page) {
  const box = page.getByRole('textbox', { name: 'Message' });
  const words = 'my order of a laptop has not arrived and the invoice shows the wrong price please help'.split(' ');
  await box.fill(values.words ? Array.from({ length: Number(values.words) }, (_, i) => words[i % words.length]).join(' ') : 'Do you sell laptops?');
  // After a reload the conversation holds the earlier replies: this one is the next.
  const replies = page.getByRole('article', { name: 'phi-2 replied' });
  const earlier = await replies.count();
  const sent = Date.now();
  await box.press('Enter');
  const reply = replies.nth(earlier);
  const error = reply.getByRole('alert');
  await Promise.race([reply.getByTestId('reply-text').filter({ hasText: /\S/ }).waitFor({ timeout }), error.waitFor({ timeout })]);
  if (await error.isVisible()) return { replyError: await error.textContent(), afterMs: Date.now() - sent };
  const firstTextMs = Date.now() - sent;
  await reply.and(page.locator('[aria-busy="false"]')).waitFor({ timeout });
  await reply.getByText('Details').click();
  const facts = (await reply.locator('dl').filter({ hasText: 'Timing' }).textContent()) ?? '';
  const number = (pattern: RegExp) => Number(pattern.exec(facts)?.[1] ?? NaN);
  return {
    firstTextMs,
    promptTokens: number(/Prompt\s*(\d+) tokens/),
    replyTokens: number(/Reply\s*(\d+) tokens/),
    classifyMs: number(/classify (\d+) ms/),
    firstTokenMs: number(/first token (\d+) ms/),
    prefillTokensPerSecond: number(/prefill ([\d.]+) tok\/s/),
    decodeTokensPerSecond: number(/decode ([\d.]+) tok\/s/),
  };
}

/** Loads, cancels while the session is being made, and samples the memory around it. */
async function cancelHalfway(page: Page, sampler: MemorySampler) {
  sampler.start();
  await page.getByRole('button', { name: 'Load model' }).click();
  const data = page.getByRole('list', { name: 'Model files' }).getByRole('listitem').filter({ hasText: '.onnx_data' });
  await data.filter({ hasText: /done/ }).waitFor({ timeout });
  // onnxruntime fills its heap a tensor at a time: cancel once the renderer holds most of the weights.
  const started = Date.now();
  while ((sampler.latest.get('renderer') ?? 0) < 2 * GiB) await new Promise((resolve) => setTimeout(resolve, 200));
  const before = sampler.stop();
  const progress = `the renderer at ${gib(sampler.latest.get('renderer') ?? 0)}, ${((Date.now() - started) / 1000).toFixed(0)} s after the weights were in`;
  await page.getByRole('button', { name: 'Cancel loading' }).click();
  await page.getByRole('button', { name: 'Load model' }).waitFor({ timeout });
  await new Promise((resolve) => setTimeout(resolve, 5000));
  sampler.start();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = sampler.stop();
  const stored = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  return { from: 'cancel', progress, beforeCancel: before, afterCancel: after, storedBytes: stored };
}

// A process group of its own, so that stopping it stops npx's children too.
const server = spawn('npx', ['tsx', 'scripts/serve.ts', '--port', String(port), '--models', 'e2e/.model'], { stdio: 'ignore', detached: true });
// A real profile on disk, as a user has: an incognito context keeps IndexedDB in memory, with a small quota.
const profile = mkdtempSync(join(tmpdir(), 'phi2-profile-'));
const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
const results: Record<string, unknown>[] = [];
try {
  await waitForServer();
  // Nothing but the local server: the measurement must not depend on, or leak to, the network.
  await context.route('**/*', (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort('blockedbyclient')));
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
  page.on('crash', () => console.log('[page crashed]'));
  const sampler = new MemorySampler(process.pid);

  await page.goto(link);
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog');
  await settings.getByRole('spinbutton', { name: 'Max new tokens' }).fill(values.tokens);
  await settings.getByRole('spinbutton', { name: 'Max new tokens' }).blur();
  await settings.getByRole('button', { name: 'Close' }).click();

  if (values.cancel) {
    results.push(await cancelHalfway(page, sampler));
    console.log(JSON.stringify(results[0]));
  }
  for (const from of values.cancel ? [] : values.words ? (['server'] as const) : (['server', 'indexeddb'] as const)) {
    if (from === 'indexeddb') await page.reload();
    sampler.start();
    const load = await loadModel(page);
    const afterLoad = sampler.stop();
    let run: Record<string, unknown> = { from, ...load, loadPeak: afterLoad };
    if ('readyMs' in load) {
      sampler.start();
      const reply = await replyOnce(page);
      run = { ...run, ...reply, replyPeak: sampler.stop() };
    }
    const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    run.storedBytes = usage;
    results.push(run);
    console.log(JSON.stringify(run));
    if (!('readyMs' in load)) break;
  }
} finally {
  await context.close();
  process.kill(-server.pid!);
  rmSync(profile, { recursive: true, force: true });
}

for (const r of results.filter((result) => result.from === 'cancel')) {
  const [before, after] = [r.beforeCancel, r.afterCancel] as { byType: Record<string, number> }[];
  console.log(`cancel at ${r.progress}: renderer ${gib(before!.byType.renderer ?? 0)} before, ${gib(after!.byType.renderer ?? 0)} 6 s after; ${r.storedBytes} bytes stored`);
}
for (const r of results.filter((result) => result.from !== 'cancel')) {
  const load = r.loadPeak as { totalPeak: number; byType: Record<string, number> };
  const replyPeak = r.replyPeak as { totalPeak: number; byType: Record<string, number> } | undefined;
  console.log(
    `${r.from}: ${'error' in r ? `failed: ${r.error}` : `ready in ${((r.readyMs as number) / 1000).toFixed(1)} s`}, ` +
      `peak RSS while loading ${gib(load.totalPeak)} (renderer ${gib(load.byType.renderer ?? 0)})` +
      (replyPeak
        ? `, while replying ${gib(replyPeak.totalPeak)} (renderer ${gib(replyPeak.byType.renderer ?? 0)}); ` +
          `first token ${r.firstTokenMs} ms, prefill ${r.prefillTokensPerSecond} tok/s over ${r.promptTokens} tokens, decode ${r.decodeTokensPerSecond} tok/s`
        : ''),
  );
}
