import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { sidebar } from './conversation-file';
import { expect, modelLink, reply, test } from './fixtures';

/** Limits the app keeps (src/lib/limits.ts, src/lib/store/transfer.ts). */
const MAX_MESSAGE_CHARS = 1_000_000;
const DAY = 86_400_000;

async function exportAll(page: Page): Promise<{ conversations: { title: string; messages: { text: string }[] }[] }> {
  const [file] = await Promise.all([page.waitForEvent('download'), sidebar(page).getByRole('button', { name: 'Export all' }).click()]);
  return JSON.parse(await readFile(await file.path(), 'utf8'));
}

async function importFile(page: Page, name: string, content: unknown) {
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  await sidebar(page).getByLabel('Import conversations').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
}

function conversation(id: string, title: string, at: number, text = `Hello from ${title}`) {
  return {
    id,
    title,
    createdAt: at,
    updatedAt: at + 1000,
    messages: [
      { id: `${id}-u`, role: 'user', text, createdAt: at, updatedAt: at },
      { id: `${id}-a`, role: 'assistant', text: `A reply in ${title}`, status: 'done', stopReason: 'end', createdAt: at + 1000, updatedAt: at + 1000 },
    ],
  };
}
const file = (conversations: unknown[], version: unknown = 1) => ({ format: 'phi-chat', version, exportedAt: new Date().toISOString(), conversations });

test('a message at the composer’s limit is stored, exported and imported back; one over it cannot be sent', async ({ page }) => {
  test.setTimeout(300_000);
  // loadTinyModel's own wait, with room for a busy machine: the load is not what this test is about.
  await page.goto(modelLink());
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('transformers.js', { timeout: 120_000 });
  const box = page.getByRole('textbox', { name: 'Message' });
  const send = page.getByRole('button', { name: 'Send' });

  await box.fill('x'.repeat(MAX_MESSAGE_CHARS + 1));
  await expect(send).toBeDisabled();
  await expect(page.getByRole('alert').filter({ hasText: 'at most 1,000,000 can be sent' })).toContainText('1,000,001 characters');
  await box.press('Enter');
  await expect(sidebar(page)).toContainText('No conversations yet.');

  const longest = `Longest ${'y'.repeat(MAX_MESSAGE_CHARS - 8)}`;
  await box.fill(longest);
  await expect(page.getByRole('alert').filter({ hasText: 'can be sent' })).toHaveCount(0);
  await send.click();
  await expect(reply(page, 0)).toHaveAttribute('aria-busy', 'false', { timeout: 120_000 });
  await expect(reply(page, 0)).toContainText('too long for the model');

  const backup = await exportAll(page);
  expect(backup.conversations[0].messages[0].text).toBe(longest);
  await sidebar(page).getByRole('button', { name: /^Delete Longest/ }).click();
  await expect(sidebar(page)).toContainText('No conversations yet.');
  await importFile(page, 'backup.json', backup);
  await expect(sidebar(page).getByRole('status').filter({ hasText: 'Imported' })).toContainText('1 new, 0 merged (2 messages added).');
  const again = await exportAll(page);
  expect(again.conversations).toEqual(backup.conversations);
});

test('a file with a bad conversation brings in the others, and a note names the bad one and why', async ({ page }) => {
  await page.goto('./');
  const now = Date.now();
  await importFile(page, 'mixed.json', file([
    conversation('good-1', 'Order 42', now - 3 * DAY),
    conversation('future', 'From the far future', 1e16),
    conversation('good-2', 'Plans and prices', now - 2 * DAY),
    { ...conversation('no-messages', 'Lost messages', now - DAY), messages: 'none' },
  ]));
  const status = sidebar(page).getByRole('status').filter({ hasText: 'Imported' });
  await expect(status).toContainText('Imported mixed.json: 2 new, 0 merged (4 messages added). 2 conversations were skipped:');
  await expect(status.getByRole('listitem')).toHaveText([
    '“From the far future”: conversations[1].messages[0].createdAt is 10000000000000000, more than a day in the future.',
    '“Lost messages”: conversations[3].messages must be a list.',
  ]);
  await expect(sidebar(page).getByRole('button', { name: /^Order 42 / })).toBeVisible();
  await expect(sidebar(page).getByRole('button', { name: /^Plans and prices / })).toBeVisible();
  await expect(sidebar(page).getByRole('button', { name: /far future/ })).toHaveCount(0);
  await expect(sidebar(page)).not.toContainText('Invalid Date');

  // A file of nothing but bad conversations imports nothing, and says so.
  await importFile(page, 'future.json', file([conversation('future', 'From the far future', now + 2 * DAY)]));
  await expect(sidebar(page).getByRole('alert')).toContainText('Nothing was imported from future.json. 1 conversation was skipped:');
  await expect(sidebar(page).getByRole('alert')).toContainText('more than a day in the future');

  for (const version of ['1', -5]) {
    await importFile(page, 'odd-version.json', file([conversation('good-3', 'Odd version', now)], version));
    await expect(sidebar(page).getByRole('alert')).toContainText(`Nothing was imported from odd-version.json. This file’s version (${JSON.stringify(version)}) is not a version number`);
  }
  await expect(sidebar(page).getByRole('button', { name: 'Odd version' })).toHaveCount(0);
});

test('a stored time that is no date shows no "Invalid Date", and Export → As Markdown still works', async ({ page }) => {
  await page.goto('./');
  await importFile(page, 'old.json', file([conversation('old', 'Saved long ago', Date.now() - DAY)]));
  await expect(sidebar(page).getByRole('status')).toContainText('1 new');
  // Data written before imports checked times, put straight into the real IndexedDB.
  await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('phi-chat-conversations');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('conversations', 'readwrite');
      tx.objectStore('conversations').openCursor().onsuccess = (event) => {
        const cursor = (event.target as IDBRequest<IDBCursorWithValue | null>).result;
        if (!cursor) return;
        cursor.update({ ...cursor.value, updatedAt: 1e16 });
        cursor.continue();
      };
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  });
  await page.reload();
  // Its name is its title alone: there is no date to show.
  const entry = sidebar(page).getByRole('button', { name: 'Saved long ago', exact: true });
  await expect(entry).toBeVisible();
  await expect(sidebar(page)).not.toContainText('Invalid Date');
  await entry.click();
  await page.getByText('Export', { exact: true }).click();
  const [md] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'As Markdown' }).click()]);
  expect(await readFile(await md.path(), 'utf8')).toContain('_Exported from Phi Chat, at an unknown time_');
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('a message of only invisible characters cannot be sent, and no invisible title is made', async ({ page }) => {
  await page.goto(modelLink());
  const box = page.getByRole('textbox', { name: 'Message' });
  const send = page.getByRole('button', { name: 'Send' });
  for (const invisible of ['\u200B\u200D', '\u200B \u00AD\u2060\n\u202E', '\uFEFF\u3164']) {
    await box.fill(invisible);
    await expect(send).toBeDisabled();
    await box.press('Enter');
  }
  await expect(sidebar(page)).toContainText('No conversations yet.');

  await box.fill('\u200B\n\u200DOrder 42 is late');
  await expect(send).toBeEnabled();
  await send.click();
  await expect(sidebar(page).getByRole('button', { name: /^Order 42 is late/ }).first()).toHaveAccessibleName(/^Order 42 is late \S/);

  await importFile(page, 'blank-title.json', file([{ ...conversation('blank', '\u200B\u200D', Date.now() - DAY, 'Where is my refund?') }]));
  await expect(sidebar(page).getByRole('status').filter({ hasText: 'Imported' })).toContainText('1 new');
  await expect(sidebar(page).getByRole('button', { name: /^Where is my refund\? / })).toBeVisible();
});
