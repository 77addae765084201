import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { expect, loadTinyModel, modelLink, reply, sendMessage, test, waitForReplyEnd } from './fixtures';

const sidebar = (page: Page) => page.getByRole('navigation', { name: 'Conversations' });
const conversationButton = (page: Page, title: string | RegExp) => sidebar(page).getByRole('button', { name: title }).first();

async function chat(page: Page, text: string, n: number) {
  await sendMessage(page, text);
  await waitForReplyEnd(page, n);
}

/** How much of the reply text IndexedDB holds so far. */
function storedReplyLength(page: Page) {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('phi-chat-messages');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const all = await new Promise<{ role: string; text: string }[]>((resolve, reject) => {
      const request = db.transaction('messages').objectStore('messages').getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    db.close();
    return Math.max(0, ...all.filter((m) => m.role === 'assistant').map((m) => m.text.length));
  });
}

async function exportAll(page: Page): Promise<{ exportedAt: string; conversations: unknown[] }> {
  const [file] = await Promise.all([page.waitForEvent('download'), sidebar(page).getByRole('button', { name: 'Export all' }).click()]);
  return JSON.parse(await readFile(await file.path(), 'utf8'));
}

test('a conversation, its intents and the open conversation come back after a reload', async ({ page }) => {
  await loadTinyModel(page);
  await chat(page, 'My laptop will not turn on, please help', 0);
  await expect(conversationButton(page, /My laptop will not turn on/)).toBeVisible();
  const label = await reply(page, 0).locator('summary').first().getAttribute('aria-label');
  const text = await reply(page, 0).getByTestId('reply-text').textContent();

  await page.reload();
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('My laptop will not turn on, please help');
  await expect(page.getByRole('article', { name: 'You said' }).getByTestId('user-text')).toHaveText('My laptop will not turn on, please help');
  await expect(reply(page, 0).getByTestId('reply-text')).toHaveText(text!);
  await expect(reply(page, 0).locator('summary').first()).toHaveAttribute('aria-label', label!);
  await expect(conversationButton(page, /My laptop/)).toHaveAttribute('aria-current', 'page');
});

test('the sidebar starts, finds, renames and deletes conversations, with undo', async ({ page }) => {
  await loadTinyModel(page);
  await chat(page, 'Do you sell gaming chairs?', 0);
  await sidebar(page).getByRole('button', { name: 'New chat' }).click();
  await expect(page.getByRole('article')).toHaveCount(0);
  await chat(page, 'Tell me a joke about cats', 0);

  // Newest activity first.
  const titles = sidebar(page).getByRole('listitem');
  await expect(titles.first()).toContainText('Tell me a joke about cats');
  await expect(titles.nth(1)).toContainText('Do you sell gaming chairs?');

  // Search reads message text as well as titles.
  const firstReply = (await reply(page, 0).getByTestId('reply-text').textContent())!;
  const word = firstReply.split(/\s+/).find((w) => /^[a-z]{5,}$/i.test(w) && !/gaming|chairs/i.test(w));
  await sidebar(page).getByRole('searchbox', { name: 'Search conversations' }).fill('chairs');
  await expect(titles).toHaveCount(1);
  await expect(titles.first()).toContainText('gaming chairs');
  if (word) {
    await sidebar(page).getByRole('searchbox', { name: 'Search conversations' }).fill(word);
    await expect(titles.filter({ hasText: 'joke about cats' })).toHaveCount(1);
  }
  await sidebar(page).getByRole('searchbox', { name: 'Search conversations' }).fill('no such words anywhere');
  await expect(sidebar(page)).toContainText('No conversation matches.');
  await sidebar(page).getByRole('searchbox', { name: 'Search conversations' }).fill('');

  await sidebar(page).getByRole('button', { name: 'Rename Tell me a joke about cats' }).click();
  await sidebar(page).getByRole('textbox', { name: 'New title' }).fill('Cat jokes');
  await sidebar(page).getByRole('textbox', { name: 'New title' }).press('Enter');
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Cat jokes');

  await sidebar(page).getByRole('button', { name: 'Delete Cat jokes' }).click();
  await expect(titles).toHaveCount(1);
  await sidebar(page).getByRole('button', { name: 'Undo' }).click();
  await expect(conversationButton(page, 'Cat jokes')).toBeVisible();

  await sidebar(page).getByRole('button', { name: 'Delete Do you sell gaming chairs?' }).click();
  // The toast appears once the deletion is stored.
  await expect(sidebar(page).getByRole('status')).toContainText('Deleted “Do you sell gaming chairs?”');
  await page.reload();
  await expect(titles).toHaveCount(1);
  await expect(titles.first()).toContainText('Cat jokes');
});

test('export all, delete all, import: the same conversations come back', async ({ page }) => {
  await loadTinyModel(page);
  await chat(page, 'What plans do you offer?', 0);
  await chat(page, 'And the cheapest one?', 1);
  await sidebar(page).getByRole('button', { name: 'New chat' }).click();
  await chat(page, 'Knock knock', 0);
  const before = await exportAll(page);
  expect(before.conversations).toHaveLength(2);

  for (const title of ['Knock knock', 'What plans do you offer?']) {
    await sidebar(page).getByRole('button', { name: `Delete ${title}` }).click();
  }
  await expect(sidebar(page)).toContainText('No conversations yet.');

  await sidebar(page).getByLabel('Import conversations').setInputFiles({
    name: 'backup.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(before)),
  });
  await expect(sidebar(page).getByRole('status').filter({ hasText: 'Imported' })).toContainText('2 new, 0 merged (6 messages added)');
  const after = await exportAll(page);
  expect(after.conversations).toEqual(before.conversations);

  // Importing the same file again changes nothing.
  await sidebar(page).getByLabel('Import conversations').setInputFiles({ name: 'backup.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(before)) });
  await expect(sidebar(page).getByRole('status').filter({ hasText: 'Imported' })).toContainText('0 new, 0 merged (0 messages added)');
});

test('a malformed or truncated import shows an error and changes nothing', async ({ page }) => {
  await loadTinyModel(page);
  await chat(page, 'Keep this conversation safe', 0);
  const before = await exportAll(page);
  const good = JSON.stringify(before);

  for (const [name, content, message] of [
    ['truncated.json', good.slice(0, good.length / 2), 'not valid JSON'],
    ['hostile.json', good.replace('"role":"user"', '"role":"<script>alert(1)</script>"'), 'must be one of user, assistant'],
    ['other.json', '{"hello":"world"}', 'not a Phi Chat export'],
  ]) {
    await sidebar(page).getByLabel('Import conversations').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(content) });
    await expect(sidebar(page).getByRole('alert')).toContainText(`Nothing was imported from ${name}.`);
    await expect(sidebar(page).getByRole('alert')).toContainText(message);
  }
  const after = await exportAll(page);
  expect(after.conversations).toEqual(before.conversations);
});

test('one conversation exports as JSON and as Markdown', async ({ page }) => {
  await loadTinyModel(page);
  await chat(page, 'Export me please', 0);
  await page.getByText('Export', { exact: true }).click();
  const [md] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'As Markdown' }).click()]);
  expect(md.suggestedFilename()).toBe('export-me-please.md');
  const markdown = await readFile(await md.path(), 'utf8');
  expect(markdown).toMatch(/^# Export me please\n/);
  expect(markdown).toContain('**You**\n\nExport me please');
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'As JSON' }).click()]);
  const data = JSON.parse(await readFile(await json.path(), 'utf8'));
  expect(data.conversations).toHaveLength(1);
  expect(data.conversations[0].messages).toHaveLength(2);
});

test('two tabs adding to the same conversation keep both messages', async ({ page, context }) => {
  await loadTinyModel(page);
  await chat(page, 'Started in the first tab', 0);
  const second = await context.newPage();
  await loadTinyModel(second);
  await expect(second.getByRole('heading', { level: 2 })).toHaveText('Started in the first tab');

  await Promise.all([sendMessage(page, 'Added by tab one'), sendMessage(second, 'Added by tab two')]);
  await Promise.all([waitForReplyEnd(page, 1), waitForReplyEnd(second, 1)]);

  // Each tab sees the other's message without a reload, and both survive one.
  const users = (p: Page) => p.getByRole('article', { name: 'You said' });
  await expect(users(page).filter({ hasText: 'Added by tab two' })).toHaveCount(1);
  await expect(users(second).filter({ hasText: 'Added by tab one' })).toHaveCount(1);
  for (const p of [page, second]) {
    await p.reload();
    await expect(users(p)).toHaveCount(3);
    await expect(users(p).filter({ hasText: 'Added by tab one' })).toHaveCount(1);
    await expect(users(p).filter({ hasText: 'Added by tab two' })).toHaveCount(1);
    await expect(p.getByRole('article', { name: 'phi-2 replied' })).toHaveCount(3);
  }
  await second.close();
});

test('closing the tab mid-reply keeps what was streamed, marked as interrupted', async ({ page, context }) => {
  await loadTinyModel(page);
  await sendMessage(page, 'Write me a long answer, then I will close the tab');
  const text = reply(page, 0).getByTestId('reply-text');
  await expect.poll(async () => (await text.textContent())?.length ?? 0).toBeGreaterThan(40);
  // A throttled save has written part of the reply, as one does every few hundred milliseconds.
  await expect.poll(() => storedReplyLength(page)).toBeGreaterThan(20);
  await page.close({ runBeforeUnload: false });

  const again = await context.newPage();
  await again.goto(modelLink());
  await expect(reply(again, 0).getByText(/Interrupted/)).toBeVisible();
  expect((await reply(again, 0).getByTestId('reply-text').textContent())!.length).toBeGreaterThan(20);
  await expect(reply(again, 0)).toHaveAttribute('aria-busy', 'false');
});

test('data from a newer app version is shown but never overwritten', async ({ page }) => {
  await loadTinyModel(page);
  await chat(page, 'Written by this version', 0);
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('phi-chat-meta');
        open.onsuccess = () => {
          const tx = open.result.transaction('meta', 'readwrite');
          tx.objectStore('meta').put(99, 'schema');
          tx.oncomplete = () => (open.result.close(), resolve());
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
  await page.reload();
  await expect(page.getByRole('alert').first()).toContainText('saved by a newer version of Phi Chat');
  await expect(page.getByRole('article', { name: 'You said' }).getByTestId('user-text')).toHaveText('Written by this version');

  await page.getByRole('button', { name: 'Load model' }).click();
  await chat(page, 'Not saved while read-only', 1);
  await sidebar(page).getByRole('button', { name: 'Delete Written by this version' }).click();
  await page.reload();
  await conversationButton(page, 'Written by this version').click();
  await expect(page.getByRole('article', { name: 'You said' })).toHaveCount(1);
  const schema = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const open = indexedDB.open('phi-chat-meta');
        open.onsuccess = () => {
          const get = open.result.transaction('meta').objectStore('meta').get('schema');
          get.onsuccess = () => resolve(get.result);
        };
      }),
  );
  expect(schema).toBe(99);
});

test('the app asks to keep its storage once the user starts chatting, and says whether it may', async ({ page }) => {
  await loadTinyModel(page);
  await chat(page, 'Hello', 0);
  await expect(sidebar(page).getByLabel('Storage persistence')).toHaveText(/Saved on this device/);
});

test('a reply keeps streaming while the user looks at another conversation, and is whole on return', async ({ page }) => {
  await loadTinyModel(page);
  await sendMessage(page, 'Write a long answer while I look elsewhere');
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
  await sidebar(page).getByRole('button', { name: 'New chat' }).click();
  await expect(page.getByRole('article')).toHaveCount(0);
  await conversationButton(page, /^Write a long answer/).click();
  await waitForReplyEnd(page, 0);
  await expect(reply(page, 0).getByText('Cut off at the reply length limit.')).toBeVisible();
  const shown = (await reply(page, 0).getByTestId('reply-text').textContent())!;
  await page.reload();
  await expect(reply(page, 0).getByTestId('reply-text')).toHaveText(shown);
});

test('a reload right after the first words of a reply keeps the message and those words', async ({ page }) => {
  await loadTinyModel(page);
  await sendMessage(page, 'Write me a long answer; I will reload at once');
  // In the page, so the reload follows the first words as closely as it can.
  await page.waitForFunction(() => document.querySelector('[data-testid="reply-text"]')?.textContent?.trim(), null, { polling: 'raf' });
  // Once the first words are written (at once, not after the 500 ms throttle: reply-saver.test
  // proves that); reloading in the same frame as they appear raced the write's commit when both
  // cores ran the model, which a user's reload a moment later does not.
  await expect.poll(() => storedReplyLength(page), { intervals: [10], timeout: 5_000 }).toBeGreaterThan(0);
  await page.reload();
  await expect(page.getByRole('article', { name: 'You said' }).getByTestId('user-text')).toHaveText('Write me a long answer; I will reload at once');
  await expect(reply(page, 0).getByText(/Interrupted/)).toBeVisible();
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
});

test('a reply in another conversation does not put Stop here; deleting its conversation stops it at once', async ({ page }) => {
  await loadTinyModel(page);
  await page.getByRole('button', { name: 'Settings' }).click();
  const maxTokens = page.getByRole('dialog', { name: 'Settings' }).getByRole('spinbutton', { name: 'Max new tokens' });
  await maxTokens.fill('1024');
  await maxTokens.blur();
  await page.getByRole('dialog', { name: 'Settings' }).getByRole('button', { name: 'Close' }).click();
  await sendMessage(page, 'Write a long answer in the first conversation');
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();

  // Elsewhere, the composer keeps the draft, holds Send back and says where the model is busy.
  await sidebar(page).getByRole('button', { name: 'New chat' }).click();
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('A question for later');
  await expect(page.getByRole('button', { name: 'Stop' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Send' })).toBeDisabled();
  await expect(page.getByRole('status').filter({ hasText: 'phi-2 is writing a reply in' })).toContainText('“Write a long answer in the first conversation”');
  await page.getByRole('button', { name: 'Go to that conversation' }).click();
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Write a long answer in the first conversation');
  await expect(page.getByRole('button', { name: 'Stop' })).toBeVisible();
  await expect(reply(page, 0)).toHaveAttribute('aria-busy', 'true');

  // Deleted while it streams: nobody can see the reply, so it stops, and the draft can be sent.
  await sidebar(page).getByRole('button', { name: 'Delete Write a long answer in the first conversation' }).click();
  await expect(page.getByRole('button', { name: 'Stop' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Send' })).toBeEnabled({ timeout: 5000 });
  await expect(box).toHaveValue('A question for later');
});
