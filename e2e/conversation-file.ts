import type { Page } from '@playwright/test';
import { expect } from './fixtures';

export const sidebar = (page: Page) => page.getByRole('navigation', { name: 'Conversations' });

/**
 * Puts a conversation on screen as if phi-2 had written `replies`, through the app's own import:
 * the way to show a reply no real model would be asked to write (hostile HTML, code blocks), with
 * the worker and the rendering left exactly as they are.
 */
export async function openImportedConversation(page: Page, title: string, turns: { user: string; reply: string }[]) {
  const id = title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const start = Date.UTC(2026, 10, 1);
  const messages = turns.flatMap(({ user, reply }, i) => [
    { id: `${id}-u${i}`, role: 'user', text: user, createdAt: start + i * 2000, updatedAt: start + i * 2000 },
    {
      id: `${id}-a${i}`,
      role: 'assistant',
      text: reply,
      status: 'done',
      stopReason: 'end',
      classification: { probabilities: { support: 0.2, sales: 0.1, joke: 0.7 }, route: 'joke' },
      createdAt: start + i * 2000 + 1000,
      updatedAt: start + i * 2000 + 1000,
    },
  ]);
  const file = {
    format: 'phi-chat',
    version: 1,
    exportedAt: new Date(start).toISOString(),
    conversations: [{ id, title, createdAt: start, updatedAt: start + turns.length * 2000, messages }],
  };
  const nav = sidebar(page);
  const drawer = !(await nav.isVisible());
  if (drawer) await page.getByRole('button', { name: 'Show conversations' }).click();
  await nav.getByLabel('Import conversations').setInputFiles({ name: `${id}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
  await expect(nav.getByRole('status').filter({ hasText: 'Imported' })).toContainText('1 new');
  await nav.getByRole('button', { name: title }).first().click();
  await expect(page.getByRole('heading', { level: 2 })).toHaveText(title);
  if (drawer) await expect(nav).toBeHidden();
}
