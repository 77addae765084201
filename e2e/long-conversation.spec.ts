import { openImportedConversation } from './conversation-file';
import { expect, loadTinyModel, sendMessage, setMaxNewTokens, test } from './fixtures';

// Tracing snapshots the page on its main thread, in long tasks of its own that would count here.
test.use({ trace: 'off' });
// The main-thread task lengths are logged here, not asserted: speed belongs to the benchmark (a
// timed bound failed on this machine even when idle). What is asserted is the structure that made
// the freeze: the page holds a window of the conversation, not its 5,000 messages.
test('a conversation of 5,000 messages opens at its latest message, stays small, and scrolls to its first and last messages', async ({ page }) => {
  test.setTimeout(180_000);
  const turns = 2500;
  const start = Date.UTC(2026, 10, 1);
  const messages = Array.from({ length: turns }, (_, i) => [
    { id: `long-u${i}`, role: 'user', text: `Question ${i + 1}: what about item ${i + 1}?`, createdAt: start + i * 2000, updatedAt: start + i * 2000 },
    {
      id: `long-a${i}`,
      role: 'assistant',
      text: `Answer ${i + 1}. Here is **some** detail:\n\n- one point\n- another point\n\n\`\`\`js\nconsole.log(${i + 1});\n\`\`\``,
      status: 'done',
      stopReason: 'end',
      classification: { probabilities: { support: 0.6, sales: 0.3, joke: 0.1 }, route: 'support' },
      createdAt: start + i * 2000 + 1000,
      updatedAt: start + i * 2000 + 1000,
    },
  ]).flat();
  const file = { format: 'phi-chat', version: 1, exportedAt: new Date(start).toISOString(), conversations: [{ id: 'long', title: 'Five thousand messages', createdAt: start, updatedAt: start + turns * 2000, messages }] };

  await page.goto('./');
  const nav = page.getByRole('navigation', { name: 'Conversations' });
  await nav.getByLabel('Import conversations').setInputFiles({ name: 'long.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
  await expect(nav.getByRole('status').filter({ hasText: 'Imported' })).toContainText('1 new');

  // Playwright's own locators run on the page's main thread too, and on a busy machine their queries
  // alone can take 100 ms: between the click and the last message on screen, only the app runs.
  const open = await nav.getByRole('button', { name: /^Five thousand messages/ }).first().elementHandle();
  await page.evaluate(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => w.longTasks.push(...list.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
  });
  const longTasks = () => page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks.splice(0));
  await open!.click();
  await page.waitForFunction(() => document.querySelector('[role="log"] article:last-of-type')?.textContent?.includes('Answer 2500.'), null, { polling: 'raf' });
  // Long tasks are reported after they end: give the observer a frame or two.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const opening = await longTasks();
  console.log(`long tasks while opening: ${JSON.stringify(opening.map(Math.round))}`);

  const log = page.getByRole('log', { name: 'Conversation' });
  const lastReply = log.getByRole('article', { name: 'phi-2 replied' }).last();
  await expect(lastReply).toContainText('Answer 2500.');
  await expect(lastReply).toBeInViewport();
  await expect(lastReply).toHaveAttribute('aria-posinset', '5000');
  await expect(lastReply).toHaveAttribute('aria-setsize', '5000');
  const nodes = await page.evaluate(() => document.getElementsByTagName('*').length);
  console.log(`DOM elements after opening: ${nodes}`);
  expect(nodes).toBeLessThan(5000);

  // Scrolling to the top of what is shown, again and again, reaches the first message, and the page
  // never grows past a window. The loop runs in the page, so only the app's own tasks are timed.
  await longTasks();
  const { scrolls, mostNodes, ms } = await page.evaluate(async () => {
    const log = document.querySelector<HTMLElement>('[role="log"]')!;
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    let scrolls = 0;
    let mostNodes = 0;
    const t0 = performance.now();
    while (!log.querySelector('article[aria-posinset="1"]') && scrolls < 5000) {
      log.scrollTo({ top: 0, behavior: 'instant' });
      await frame();
      mostNodes = Math.max(mostNodes, document.getElementsByTagName('*').length);
      scrolls++;
    }
    return { scrolls, mostNodes, ms: performance.now() - t0 };
  });
  const scrolling = await longTasks();
  console.log(`scrolls to the top: ${scrolls} in ${Math.round(ms)} ms, most DOM elements: ${mostNodes}, long tasks while scrolling: ${scrolling.length}, longest ${Math.round(Math.max(0, ...scrolling))} ms`);
  expect(mostNodes).toBeLessThan(10_000);
  const firstQuestion = log.getByRole('article', { name: 'You said' }).filter({ hasText: 'Question 1:' });
  await firstQuestion.scrollIntoViewIfNeeded();
  await expect(firstQuestion).toBeInViewport();
  await expect(firstQuestion).toHaveAttribute('aria-posinset', '1');

  // And back down: Jump to latest returns to the last message.
  await page.getByRole('button', { name: 'Jump to latest' }).click();
  await expect(log.getByRole('article', { name: 'phi-2 replied' }).last()).toContainText('Answer 2500.');
  await expect(log.getByRole('article', { name: 'phi-2 replied' }).last()).toBeInViewport();
});

test('while a reply streams at the end of a long conversation, the conversation grows by what the reply adds, no more', async ({ page }) => {
  await loadTinyModel(page);
  await setMaxNewTokens(page, 1024);
  // Longer than the app renders whole: the messages above the rendered ones are a space of their
  // measured or, never rendered yet, estimated heights.
  const turns = Array.from({ length: 60 }, (_, i) => ({ user: `Question ${i + 1}?`, reply: `Answer ${i + 1}.${' More detail.'.repeat(i % 9)}` }));
  await openImportedConversation(page, 'Sixty turns', turns);
  await sendMessage(page, 'Tell me a very long story about our products.');

  // Frame by frame, the conversation's scrollable height grows by as much as the reply does. The
  // estimate for the messages never rendered once followed the growing reply, so the space above
  // grew with it on every frame (15,258 px more than the reply, once): the scrollbar's thumb shrank
  // as the reply streamed, and the list was laid out twice a frame.
  const text = page.locator('[data-testid="reply-text"].live');
  await expect(text).toHaveCount(1);
  const seen = await text.evaluate(async (element) => {
    const log = document.querySelector<HTMLElement>('[role="log"]')!;
    const article = element.closest('article')!;
    const sample = () => ({ list: log.scrollHeight, reply: article.getBoundingClientRect().height });
    const first = sample();
    let last = first;
    let frames = 0;
    while (element.classList.contains('live') && frames < 600) {
      await new Promise((resolve) => requestAnimationFrame(resolve));
      if (element.classList.contains('live')) last = sample();
      frames++;
    }
    return { frames, listGrowth: last.list - first.list, replyGrowth: last.reply - first.reply };
  });
  expect(seen.frames, 'frames sampled while the reply streamed').toBeGreaterThan(5);
  expect(seen.replyGrowth, 'the reply grew as it streamed').toBeGreaterThan(50);
  expect(Math.abs(seen.listGrowth - seen.replyGrowth)).toBeLessThan(2);
});
