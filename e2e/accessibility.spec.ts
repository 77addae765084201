import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { openImportedConversation, sidebar } from './conversation-file';
import { expect, loadTinyModel, modelLink, reply, sendMessage, test, waitForReplyEnd } from './fixtures';

const PHONE = { width: 360, height: 740 };

const RICH_REPLY = [
  '## Getting started',
  'Install it, then run the **quick start**. See [the guide](https://example.com/guide) or `--help`.',
  '```python\nimport sys\n\ndef main(argv: list[str]) -> int:\n    """Print every argument, one per line, then say how many there were."""\n    for arg in argv:\n        print(arg)  # one per line\n    return len(argv)\n```',
  '| Plan | Price | Includes |\n|---|---|---|\n| Basic | free | chat |\n| Pro | $5 a month | chat, priority support and a much longer description |',
  '> Tip: a blockquote with a note.',
  '1. First step\n2. Second step',
].join('\n\n');

async function expectNoSeriousViolations(page: Page, where: string) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    serious.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    `serious or critical accessibility violations on ${where}`,
  ).toEqual([]);
}

/** A chat with a real reply from the generated model and a rich imported one. */
async function chatScreen(page: Page) {
  await loadTinyModel(page);
  await sendMessage(page, 'Do you sell laptops?');
  await waitForReplyEnd(page, 0);
  await openImportedConversation(page, 'Rich reply', [{ user: 'How do I start?', reply: RICH_REPLY }]);
}

for (const scheme of ['light', 'dark'] as const) {
  test(`axe: no serious or critical violations on the chat screen, the settings and the sidebar (${scheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await chatScreen(page);
    await reply(page, 0).locator('summary').first().click(); // the intent probabilities
    await expectNoSeriousViolations(page, 'the chat screen');

    await page.getByText('Model source').click();
    await expect(page.getByRole('textbox', { name: 'Model URL' })).toBeVisible();
    await expectNoSeriousViolations(page, 'the model settings');

    await page.getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: 'Settings' });
    await expect(settings.getByRole('spinbutton', { name: 'Temperature' })).toBeVisible();
    await expectNoSeriousViolations(page, 'the settings dialog');
    await settings.getByRole('button', { name: 'Close' }).click();

    // The imported conversation's reply has no prompt; the generated one's does.
    await sidebar(page).getByRole('button', { name: /^Do you sell laptops\?/ }).first().click();
    await reply(page, 0).getByText('Details', { exact: true }).click();
    await expect(reply(page, 0).getByLabel('Prompt sent')).toBeVisible();
    await expectNoSeriousViolations(page, 'a reply’s details');

    await page.setViewportSize(PHONE);
    await page.getByRole('button', { name: 'Show conversations' }).click();
    await expect(sidebar(page).getByRole('button', { name: 'New chat' })).toBeVisible();
    await expectNoSeriousViolations(page, 'the sidebar drawer');
  });
}

test('the theme follows the system, can be switched, and is remembered', async ({ page }) => {
  const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const DARK = 'rgb(17, 19, 24)';
  const LIGHT = 'rgb(247, 247, 251)';
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('./');
  const theme = page.getByRole('combobox', { name: 'Theme' });
  await expect(theme).toHaveValue('system');
  expect(await background()).toBe(DARK);
  await page.emulateMedia({ colorScheme: 'light' });
  expect(await background()).toBe(LIGHT);

  await theme.selectOption('Dark');
  expect(await background()).toBe(DARK);
  await page.reload();
  await expect(theme).toHaveValue('dark');
  expect(await background()).toBe(DARK);

  await theme.selectOption('System');
  expect(await background()).toBe(LIGHT);
  await page.reload();
  await expect(theme).toHaveValue('system');
});

test('keyboard: focus starts in the textbox, comes back to it after Stop, and is always visible', async ({ page }) => {
  await page.goto(modelLink());
  const box = page.getByRole('textbox', { name: 'Message' });
  await expect(box).toBeFocused();
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('transformers.js');

  await sendMessage(page, 'Tell me a very long story about our products.');
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(reply(page, 0).getByText('Stopped.')).toBeVisible();
  await expect(box).toBeFocused();

  // Tab round the whole page, back to the textbox: every stop shows a focus ring.
  const stops: string[] = [];
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      if (el === document.body) return null;
      const style = getComputedStyle(el);
      const name = el.getAttribute('aria-label') || el.textContent?.trim().slice(0, 30) || el.id;
      return { name: `${el.tagName.toLowerCase()} ${name}`, outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    if (!stop) continue; // past the last stop, before the first
    if (stop.name === 'textarea message') break;
    stops.push(stop.name);
    expect(stop.outline, `focus ring on ${stop.name}`).not.toBe('none');
    expect(stop.width, `focus ring on ${stop.name}`).toBeGreaterThanOrEqual(2);
  }
  expect(stops.length).toBeGreaterThan(8);
  await expect(box).toBeFocused();
});

test('on a phone, the conversations drawer takes the focus, Escape closes it, and closed it is out of the tab order', async ({ page }) => {
  await page.setViewportSize(PHONE);
  await page.goto('./');
  const newChat = sidebar(page).getByRole('button', { name: 'New chat' });
  await expect(newChat).toBeHidden();
  await page.getByRole('button', { name: 'Show conversations' }).click();
  await expect(newChat).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(newChat).toBeHidden();
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeFocused();
});

for (const scheme of ['light', 'dark'] as const) {
  test(`on a 360-px-wide phone nothing spills sideways (${scheme}; screenshot attached)`, async ({ page }, testInfo) => {
    await page.setViewportSize(PHONE);
    await page.emulateMedia({ colorScheme: scheme });
    await chatScreen(page);
    const overflow = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      outside: [...document.querySelectorAll('.app *')]
        .filter((el) => el.checkVisibility() && !el.closest('pre, table'))
        .map((el) => ({ el, box: el.getBoundingClientRect() }))
        .filter(({ box }) => box.width > 0 && (box.left < -1 || box.right > innerWidth + 1))
        .map(({ el }) => `${el.tagName.toLowerCase()}.${el.className}`),
    }));
    expect(overflow.page).toBeLessThanOrEqual(PHONE.width);
    expect(overflow.outside).toEqual([]);
    await page.screenshot({ path: testInfo.outputPath(`phone-${scheme}.png`) });
    await page.getByRole('log', { name: 'Conversation' }).evaluate((el) => el.scrollTo({ top: 0, behavior: 'instant' }));
    await page.screenshot({ path: testInfo.outputPath(`phone-${scheme}-top.png`) });
    await testInfo.attach(`phone-${scheme}`, { path: testInfo.outputPath(`phone-${scheme}.png`), contentType: 'image/png' });
  });
}
