/**
 * Drives the built app in Chromium the way a user does (by role and accessible name), and watches
 * it from inside the page: the messages between the UI and its worker, main-thread long tasks,
 * IndexedDB writes, and when the reply's text changes on screen.
 */
import { expect, type BrowserContext, type Page } from '@playwright/test';
import type { PromptInfo, ReplyStats, RouteIntent } from '../../workers/protocol';

/** One message seen on the UI's side of the worker boundary, stamped with `performance.now()`. */
export interface WireRecord {
  t: number;
  id: number;
  type: string;
  direction: 'sent' | 'received';
  stats?: ReplyStats;
  prompt?: PromptInfo;
  /** A token message's text, an intent message's route. */
  text?: string;
  route?: RouteIntent;
  threads?: number;
  /** A `loaded` message's window: the tokens a prompt and its reply may take together. */
  contextSize?: number;
}

export interface PageRecords {
  wire: WireRecord[];
  longTasks: { t: number; duration: number }[];
  writes: { t: number; store: string }[];
  /** When the streaming reply's text changed on screen, and its length then. */
  text: { t: number; length: number }[];
  watchText: boolean;
}

/** Runs in the page before the app's own code (Playwright serialises it: no closures). */
function instrument() {
  const records = { wire: [], longTasks: [], writes: [], text: [], watchText: false } as unknown as PageRecords;
  (window as unknown as { __bench: PageRecords }).__bench = records;
  const NativeWorker = window.Worker;
  window.Worker = class extends NativeWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      this.addEventListener('message', (event: MessageEvent) => {
        const data = event.data as { id: number; type: string; stats?: ReplyStats; prompt?: PromptInfo; text?: string; classification?: { route: RouteIntent }; info?: { threads?: number; contextSize?: number } };
        records.wire.push({
          t: performance.now(),
          id: data.id,
          type: data.type,
          direction: 'received',
          stats: data.stats,
          prompt: data.prompt,
          text: data.type === 'token' ? data.text : undefined,
          route: data.classification?.route,
          threads: data.info?.threads,
          contextSize: data.info?.contextSize,
        });
      });
    }
  } as typeof Worker;
  const post = NativeWorker.prototype.postMessage;
  NativeWorker.prototype.postMessage = function (this: Worker, ...args: unknown[]) {
    const message = args[0] as { id: number; type: string };
    records.wire.push({ t: performance.now(), id: message.id, type: message.type, direction: 'sent' });
    Reflect.apply(post, this, args);
  };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) records.longTasks.push({ t: entry.startTime, duration: entry.duration });
  }).observe({ type: 'longtask', buffered: true });
  for (const method of ['put', 'add'] as const) {
    const original = IDBObjectStore.prototype[method];
    IDBObjectStore.prototype[method] = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      records.writes.push({ t: performance.now(), store: this.name });
      return original.apply(this, args);
    };
  }
  new MutationObserver(() => {
    if (!records.watchText) return;
    const replies = document.querySelectorAll('article[aria-label="phi-2 replied"]');
    const length = replies[replies.length - 1]?.querySelector('[data-testid="reply-text"]')?.textContent?.length ?? 0;
    if (length && length !== records.text.at(-1)?.length) records.text.push({ t: performance.now(), length });
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

export const records = (page: Page) => page.evaluate(() => (window as unknown as { __bench: PageRecords }).__bench);

/** Every request that is not to the local server is aborted, and counted: nothing may leave. */
export async function blockExternal(context: BrowserContext, origin: string, blocked: string[]) {
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin)) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
}

/** Opens the app at `link` with `generation` as the saved settings, and loads the model. */
export async function openApp(context: BrowserContext, link: string, generation: Record<string, number>) {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
  await page.addInitScript(instrument);
  await page.addInitScript((settings) => localStorage.setItem('phi-chat.settings', settings), JSON.stringify({ generation }));
  await page.goto(link);
  // The service worker precaches ~30 MB on its first visit: let it finish before timing anything.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.getByRole('button', { name: 'Load model' }).click();
  await page.getByLabel('Engine').filter({ hasText: 'transformers.js' }).waitFor({ timeout: 30 * 60_000 });
  const wire = (await records(page)).wire;
  const load = wire.find((r) => r.direction === 'sent' && r.type === 'load')!;
  const loaded = wire.find((r) => r.id === load.id && r.type === 'loaded')!;
  return { page, loadMs: loaded.t - load.t, threads: loaded.threads ?? 0, contextSize: loaded.contextSize ?? 0 };
}

export interface Turn {
  stats: ReplyStats;
  prompt: PromptInfo;
  /** The reply as the worker streamed it, and the intent it was written for. */
  replyText: string;
  route: RouteIntent;
  /** `performance.now()` in the page when the chat request was posted. */
  sentAt: number;
  /** A summary was written after this reply (older turns were folded). */
  folded: boolean;
}

const FINAL = new Set(['done', 'error', 'loaded']);

/** Sends `text` as the user, waits for the reply and for anything the app does after it (a summary). */
export async function sendAndWait(page: Page, text: string, timeoutMs = 30 * 60_000): Promise<Turn> {
  const before = (await records(page)).wire.length;
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  await page.waitForFunction(
    (from) => {
      const wire = (window as unknown as { __bench: PageRecords }).__bench.wire.slice(from);
      const sent = wire.filter((r) => r.direction === 'sent' && r.type !== 'stop');
      const ended = new Set(wire.filter((r) => r.direction === 'received' && ['done', 'error', 'loaded'].includes(r.type)).map((r) => r.id));
      // Quiet for a moment too: the app asks for a summary only once the reply is saved, after its `done`.
      const quiet = performance.now() - (wire.at(-1)?.t ?? 0) > 300;
      return sent.some((r) => r.type === 'chat') && sent.every((r) => ended.has(r.id)) && quiet;
    },
    before,
    { polling: 100, timeout: timeoutMs },
  );
  const wire = (await records(page)).wire.slice(before);
  const chat = wire.find((r) => r.direction === 'sent' && r.type === 'chat')!;
  const end = wire.find((r) => r.id === chat.id && r.direction === 'received' && FINAL.has(r.type))!;
  if (end.type !== 'done' || !end.stats) throw new Error(`The reply to "${text}" ended in ${end.type} without stats.`);
  return {
    stats: end.stats,
    prompt: wire.find((r) => r.id === chat.id && r.type === 'prompt')?.prompt ?? { text: '', tokens: 0, turnsUsed: 0 },
    replyText: wire.filter((r) => r.id === chat.id && r.type === 'token').map((r) => r.text).join(''),
    route: wire.find((r) => r.id === chat.id && r.type === 'intent')?.route ?? 'general',
    sentAt: chat.t,
    folded: wire.some((r) => r.direction === 'sent' && r.type === 'summarize'),
  };
}

export async function newChat(page: Page) {
  await page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: 'New chat' }).click();
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
}

/** Puts a stored conversation on screen through the app's own import, and opens it. */
export async function importConversation(page: Page, title: string, turns: { user: string; reply: string }[]) {
  const id = title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const start = Date.UTC(2026, 10, 1);
  const messages = turns.flatMap(({ user, reply }, i) => [
    { id: `${id}-u${i}`, role: 'user', text: user, createdAt: start + i * 2000, updatedAt: start + i * 2000 },
    { id: `${id}-a${i}`, role: 'assistant', text: reply, status: 'done', stopReason: 'end', createdAt: start + i * 2000 + 1000, updatedAt: start + i * 2000 + 1000 },
  ]);
  const file = { format: 'phi-chat', version: 1, exportedAt: new Date(start).toISOString(), conversations: [{ id, title, createdAt: start, updatedAt: start + turns.length * 2000, messages }] };
  const nav = page.getByRole('navigation', { name: 'Conversations' });
  await nav.getByLabel('Import conversations').setInputFiles({ name: `${id}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
  await nav.getByRole('status').filter({ hasText: 'Imported' }).waitFor();
  await nav.getByRole('button', { name: title }).first().click();
  await page.getByRole('heading', { level: 2, name: title }).waitFor();
  // A long conversation is virtualised: it has loaded once its last reply is the one rendered last.
  await expect(page.getByRole('article', { name: 'phi-2 replied' }).last()).toHaveAttribute('aria-posinset', String(messages.length), { timeout: 60_000 });
}
