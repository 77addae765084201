import AxeBuilder from '@axe-core/playwright';
import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { sidebar } from './conversation-file';
import { expect, modelLink, sendMessage, test } from './fixtures';

const participants = (page: Page) => page.getByRole('region', { name: 'Participants' });
const silences = (page: Page) => page.getByRole('article', { name: 'phi-2 stayed silent' });
const replies = (page: Page) => page.getByRole('article', { name: 'phi-2 replied' });
const composerIdle = (page: Page) => expect(page.getByRole('button', { name: 'Send' })).toBeVisible({ timeout: 60_000 });

/** Short replies keep the tests about decisions, not about the generated model's rambling. */
async function shortReplies(page: Page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('spinbutton', { name: 'Max new tokens' }).fill('16');
  await page.getByRole('spinbutton', { name: 'Max new tokens' }).blur();
  await page.getByRole('button', { name: 'Close' }).click();
}

async function startGroup(page: Page) {
  await page.goto(modelLink());
  await page.getByRole('button', { name: 'Load model' }).click();
  // Creating the WASM session is CPU-bound: on a machine shared with other suites it can take a minute.
  await expect(page.getByLabel('Engine')).toContainText('transformers.js', { timeout: 90_000 });
  await shortReplies(page);
  await sidebar(page).getByRole('button', { name: 'New group chat' }).click();
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Group chat');
  await expect(participants(page).getByRole('listitem')).toHaveCount(2);
}

async function rename(page: Page, from: string, to: string) {
  await participants(page).getByRole('button', { name: `Rename ${from}` }).click();
  await participants(page).getByRole('textbox', { name: `New name for ${from}` }).fill(to);
  await participants(page).getByRole('button', { name: 'Save name' }).click();
}

async function addParticipant(page: Page, name: string) {
  await participants(page).getByRole('textbox', { name: "New participant's name" }).fill(name);
  await participants(page).getByRole('button', { name: 'Add participant' }).click();
}

/** Sends as `speaker` and waits until the assistant has decided (and replied, if it speaks). */
async function sendAs(page: Page, speaker: string, text: string) {
  await page.getByRole('combobox', { name: 'Speaker' }).selectOption({ label: speaker });
  await sendMessage(page, text);
  await expect(page.getByRole('article', { name: `${speaker} said` }).last()).toContainText(text);
  await composerIdle(page);
}

test('a group chat: participants, speakers, silences and replies, Ask the assistant, reload, export and import', async ({ page }) => {
  // Eight model calls and a reload on a CPU shared with other suites.
  test.setTimeout(400_000);
  await startGroup(page);
  await rename(page, 'Alice', 'Dana');
  await addParticipant(page, 'Eve');
  await expect(participants(page).getByRole('listitem')).toHaveText([/Dana/, /Bob/, /Eve/]);

  // Chit-chat between people: the tiny model's speak probability is far under the threshold.
  await sendAs(page, 'Dana', 'hi everyone, how was the weekend');
  await sendAs(page, 'Bob', 'pretty good, we went hiking');
  await expect(silences(page)).toHaveCount(2);
  await expect(replies(page)).toHaveCount(0);
  const silence = silences(page).first();
  await expect(silence).toContainText(/Stayed silent · speak \d+% < 50%/);
  await silence.getByText('Details').click();
  await expect(silence.getByLabel('Prompt sent')).toContainText('Dana: hi everyone, how was the weekend\nInstructions: Remember:');
  await expect(silence.getByLabel('Prompt sent')).toContainText(/Output: Now Chatbot should$/);

  // Keyboard: Alt+Down in the message box switches to the next speaker.
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.focus();
  await box.press('Alt+ArrowDown');
  await expect(page.getByRole('combobox', { name: 'Speaker' })).toHaveValue(await page.getByRole('option', { name: 'Eve' }).getAttribute('value') as string);

  // Ask the assistant with a message: Eve's message gets a reply whatever the decision.
  await box.fill('what should we pack for the next trip?');
  await page.getByRole('button', { name: 'Ask the assistant' }).click();
  await expect(page.getByRole('article', { name: 'Eve said' })).toContainText('what should we pack');
  await composerIdle(page);
  await expect(replies(page)).toHaveCount(1);
  const answer = replies(page).first();
  await answer.getByText('Details').click();
  await expect(answer.getByText(/speak \(Ask the assistant\)/)).toBeVisible();
  await expect(answer.getByLabel('Prompt sent')).toContainText(/Eve: what should we pack for the next trip\?\nInstructions: .*\nChatbot:$/);

  // Ask the assistant with an empty box: a reply takes the place of the last silence.
  await sendAs(page, 'Bob', 'ok see you all');
  await expect(silences(page)).toHaveCount(3);
  await page.getByRole('button', { name: 'Ask the assistant' }).click();
  await composerIdle(page);
  await expect(silences(page)).toHaveCount(2);
  await expect(replies(page)).toHaveCount(2);

  // Removing a participant who spoke keeps their messages, under their name.
  await participants(page).getByRole('button', { name: 'Remove Dana' }).click();
  await expect(participants(page).getByRole('listitem')).toHaveText([/Bob/, /Eve/]);
  await expect(page.getByRole('article', { name: 'Dana said' })).toContainText('hi everyone');

  await page.reload();
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Group chat');
  await expect(participants(page).getByRole('listitem')).toHaveText([/Bob/, /Eve/]);
  await expect(page.getByRole('article', { name: 'Dana said' })).toContainText('hi everyone');
  await expect(page.getByRole('article', { name: 'Bob said' })).toHaveCount(2);
  await expect(silences(page)).toHaveCount(2);
  await expect(replies(page)).toHaveCount(2);

  // Export, delete, import: it all comes back.
  await page.getByText('Export', { exact: true }).click();
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'As JSON' }).click()]);
  const text = await readFile(await json.path(), 'utf8');
  const data = JSON.parse(text);
  expect(data.version).toBe(2);
  expect(data.conversations[0].group.participants.map((p: { name: string }) => p.name)).toEqual(['Bob', 'Eve']);
  await sidebar(page).getByRole('button', { name: 'Delete Group chat' }).click();
  await expect(page.getByRole('article')).toHaveCount(0);
  await sidebar(page).getByLabel('Import conversations').setInputFiles({ name: 'group.json', mimeType: 'application/json', buffer: Buffer.from(text) });
  await expect(sidebar(page).getByRole('status').filter({ hasText: 'Imported' })).toContainText('1 new');
  await sidebar(page).getByRole('listitem').getByRole('button', { name: /^Group chat/ }).click();
  await expect(participants(page).getByRole('listitem')).toHaveText([/Bob/, /Eve/]);
  await expect(page.getByRole('article', { name: 'Dana said' })).toContainText('hi everyone');
  await expect(silences(page)).toHaveCount(2);
  await expect(replies(page)).toHaveCount(2);
});

test('talkativeness shows its numbers, and being addressed with a question raises the speak probability, as Details say', async ({ page }) => {
  test.setTimeout(180_000);
  await startGroup(page);
  await page.getByRole('button', { name: 'Settings' }).click();
  const talkativeness = page.getByRole('combobox', { name: 'Talkativeness' });
  await expect(talkativeness.getByRole('option')).toHaveText(['quiet: speaks above 75%', 'balanced: speaks above 50%', 'chatty: speaks above 25%']);
  await talkativeness.selectOption('chatty');
  await page.getByRole('button', { name: 'Close' }).click();
  await sendAs(page, 'Alice', 'Chatbot, can you help us with the order?');
  // Whether the generated model then speaks is its own affair; the prior and the threshold are ours.
  const turn = page.getByRole('article', { name: /phi-2 (replied|stayed silent)/ });
  await turn.getByText('Details').click();
  await expect(turn.getByText(/raised: a question to it/)).toBeVisible();
  await expect(turn.getByText(/threshold of 25%/)).toBeVisible();
});

test('participant names that are empty, taken or too many are refused with a message', async ({ page }) => {
  test.setTimeout(180_000);
  await startGroup(page);
  await addParticipant(page, '   ');
  await expect(participants(page).getByRole('alert')).toHaveText('A participant needs a name.');
  await addParticipant(page, 'bob');
  await expect(participants(page).getByRole('alert')).toHaveText('There is already a participant called bob.');
  await rename(page, 'Alice', 'Bob');
  await expect(participants(page).getByRole('alert')).toHaveText('There is already a participant called Bob.');
  await participants(page).getByRole('textbox', { name: 'New name for Alice' }).press('Escape');
  for (const name of ['C1', 'C2', 'C3', 'C4', 'C5', 'C6']) await addParticipant(page, name);
  await expect(participants(page).getByRole('listitem')).toHaveCount(8);
  await expect(participants(page).getByRole('button', { name: 'Add participant' })).toHaveCount(0);
  await page.reload();
  await expect(participants(page).getByRole('listitem')).toHaveCount(8);
});

test('a group export is refused clearly by a build from before group chat', async ({ page }) => {
  test.setTimeout(180_000);
  // What the previous build's import says to any file newer than it: it checks the version first.
  await startGroup(page);
  await sendAs(page, 'Alice', 'hello there');
  await page.getByText('Export', { exact: true }).click();
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'As JSON' }).click()]);
  const data = JSON.parse(await readFile(await json.path(), 'utf8'));
  expect(data.version).toBeGreaterThan(1);
  // A version above this build's own is refused whole, as the older build refuses version 2.
  data.version = 99;
  await sidebar(page).getByLabel('Import conversations').setInputFiles({ name: 'newer.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(data)) });
  await expect(sidebar(page).getByRole('alert')).toHaveText('Nothing was imported from newer.json. This export was made by a newer version of Phi Chat; update the app to import it.');
});

for (const scheme of ['light', 'dark'] as const) {
  test(`axe: the group chat has no serious or critical violations (${scheme})`, async ({ page }) => {
    test.setTimeout(180_000);
    await page.emulateMedia({ colorScheme: scheme });
    await startGroup(page);
    await addParticipant(page, 'Carol');
    await sendAs(page, 'Alice', 'morning all');
    await sendAs(page, 'Bob', 'morning Alice');
    await sendAs(page, 'Carol', 'hello');
    await page.getByRole('button', { name: 'Ask the assistant' }).click();
    await composerIdle(page);
    await silences(page).first().getByText('Details').click();
    const { violations } = await new AxeBuilder({ page }).analyze();
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    await page.screenshot({ path: `test-results/group-chat-${scheme}.png`, fullPage: true });
  });
}
