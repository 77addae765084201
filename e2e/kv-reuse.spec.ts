import type { Page } from '@playwright/test';
import { openImportedConversation } from './conversation-file';
import { expect, loadTinyModel, modelLink, reply, sendMessage, test, waitForReplyEnd } from './fixtures';

/** The Details line about the KV cache of the n-th reply, opened. */
async function cacheLine(page: Page, n: number) {
  await reply(page, n).getByText('Details', { exact: true }).click();
  return reply(page, n).getByRole('definition').filter({ hasText: /^classification \d+ tokens cached/ });
}

const cachedCounts = async (page: Page, n: number) => {
  const text = (await (await cacheLine(page, n)).textContent())!;
  const [, classifyCached, classifyComputed, replyCached, replyComputed] = text.match(/classification (\d+) tokens cached, (\d+) computed · reply (\d+) tokens cached, (\d+) computed/)!.map(Number);
  return { classifyCached, classifyComputed, replyCached, replyComputed };
};

test("the second reply's Details shows prompt tokens taken from the KV cache", async ({ page }) => {
  await loadTinyModel(page);
  await sendMessage(page, 'My laptop screen is broken, can you help me?');
  await waitForReplyEnd(page, 0);
  await sendMessage(page, 'It is the one I bought last month.');
  await waitForReplyEnd(page, 1);

  const first = await cachedCounts(page, 0);
  expect(first.replyCached).toBe(0);
  expect(first.classifyCached).toBe(0);
  const second = await cachedCounts(page, 1);
  // The reply prompt's start (preamble and the first turn's message) and the classifier's fixed
  // preamble come from the cache; the rest is computed.
  expect(second.replyCached).toBeGreaterThan(20);
  expect(second.classifyCached).toBeGreaterThan(20);
  expect(second.replyComputed).toBeGreaterThan(0);
  // What Details counts adds up to the prompt it shows.
  await expect(reply(page, 1)).toContainText(`${second.replyCached + second.replyComputed} tokens · 1 earlier turn`);
});

test('?kv=off runs every prompt through the model whole', async ({ page }) => {
  await page.goto(`${modelLink()}&kv=off`);
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('transformers.js');
  await sendMessage(page, 'My laptop screen is broken, can you help me?');
  await waitForReplyEnd(page, 0);
  await sendMessage(page, 'It is the one I bought last month.');
  await waitForReplyEnd(page, 1);
  const second = await cachedCounts(page, 1);
  expect(second).toMatchObject({ replyCached: 0, classifyCached: 0 });
  expect(second.replyComputed).toBeGreaterThan(0);
});

test('a long imported conversation is summarised step by step, saved as it goes, and never holds up the next reply', async ({ page }) => {
  test.setTimeout(180_000);
  await loadTinyModel(page);
  const turns = Array.from({ length: 400 }, (_, i) => ({ user: `Question ${i}: where is order ${1000 + i}?`, reply: `Order ${1000 + i} ships on day ${i % 28}.` }));
  await openImportedConversation(page, 'Long history', turns);

  // How many turns the summary has taken in, as saved: the memory marker is the first turn still read
  // whole (`long-history-u<N>`). Read from IndexedDB, since a conversation this long is virtualised
  // and most of its messages are not in the page.
  const folded = () =>
    page.evaluate(async () => {
      const request = <T>(r: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))));
      const db = await request(indexedDB.open('phi-chat-conversations'));
      const conversation = await request(db.transaction('conversations').objectStore('conversations').get('long-history'));
      db.close();
      const start = (conversation as { memoryStart?: string } | undefined)?.memoryStart;
      if (!start) return 0;
      const turn = /-u(\d+)$/.exec(start);
      return turn ? Number(turn[1]) : 400;
    });
  // The n-th reply (from 0), by its place in the conversation: only the messages near the view are rendered.
  const nthReply = (n: number) => page.locator(`article[aria-posinset="${2 * n + 2}"]`);
  const waitForEnd = (n: number) => expect(nthReply(n)).toHaveAttribute('aria-busy', 'false', { timeout: 60_000 });

  let sent = Date.now();
  await sendMessage(page, 'Where is my latest order?');
  await waitForEnd(400);
  const firstReplyMs = Date.now() - sent;
  await nthReply(400).getByText('Details', { exact: true }).click();
  const kept = Number((await nthReply(400).getByText(/ tokens · \d+ earlier turns?/).textContent())!.match(/· (\d+) earlier/)![1]);
  const toFold = 400 - kept;
  expect(toFold).toBeGreaterThan(100);
  // The first fold steps are saved while the rest still runs.
  await expect.poll(folded, { timeout: 60_000 }).toBeGreaterThan(0);
  const before = await folded();

  sent = Date.now();
  await sendMessage(page, 'And the one before?');
  await waitForEnd(401);
  const secondReplyMs = Date.now() - sent;
  await expect(nthReply(401).getByTestId('reply-text')).not.toBeEmpty();
  // The new message interrupted the fold: it did not wait for the hundreds of turns left.
  const after = await folded();
  expect(after).toBeGreaterThanOrEqual(before);
  expect(after).toBeLessThan(toFold);
  // Waiting for the whole fold would take many times one reply (each step writes up to 120 tokens).
  expect(secondReplyMs).toBeLessThan(3 * firstReplyMs);

  // Progress is kept: after the reply, folding goes on from where it stopped, not from the start.
  await expect.poll(folded, { timeout: 60_000 }).toBeGreaterThan(after);
  await page.reload();
  await expect.poll(folded, { timeout: 30_000 }).toBeGreaterThan(after);
});
