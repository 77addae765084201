import { expect, loadTinyModel, modelLink, reply, sendMessage, test, waitForReplyEnd } from './fixtures';

test('the page loads and offers to load the model', async ({ page }) => {
  await page.goto('./');
  await expect(page.getByRole('heading', { name: 'Phi Chat' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Load model' })).toBeEnabled();
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeVisible();
});

test('pressing Load model leaves the focus in the message box, not lost with the button', async ({ page }) => {
  await page.goto(modelLink());
  await page.getByRole('button', { name: 'Load model' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeFocused();
  await expect(page.getByLabel('Engine')).toContainText('transformers.js');
});

test('the model loads with visible progress, then says which engine and device it runs on', async ({ page, context }) => {
  // A slow link (3 MB/s) so the download takes long enough to watch, as it would for phi-2.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: 3_000_000, uploadThroughput: -1 });
  await page.goto(modelLink());
  await page.getByRole('button', { name: 'Load model' }).click();
  const bar = page.getByRole('progressbar');
  await expect(bar).toBeVisible();
  await expect(page.getByText(/Downloading .+ of .+ \(\d+%\)/)).toBeVisible();
  await expect(page.getByRole('list', { name: 'Model files' })).toContainText('onnx/model.onnx');
  await expect.poll(async () => Number(await bar.getAttribute('value')), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(page.getByLabel('Engine')).toContainText(/CPU \(WASM, \d+ threads?\) · phi-tiny fp32 · transformers\.js/, { timeout: 60_000 });
  await expect(bar).toBeHidden();
});

test('a message gets an intent label and a reply that streams in', async ({ page }) => {
  await loadTinyModel(page);
  // Record every text the reply shows, from inside the page, as it changes.
  await page.evaluate(() => {
    const w = window as unknown as { replyTexts: string[] };
    w.replyTexts = [];
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="reply-text"]')?.textContent;
      if (text && text !== w.replyTexts.at(-1)) w.replyTexts.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await sendMessage(page, 'My order arrived broken, can you help me?');
  await expect(page.getByRole('article', { name: 'You said' }).getByTestId('user-text')).toHaveText('My order arrived broken, can you help me?');
  const label = reply(page, 0).getByRole('group').first();
  await expect(reply(page, 0).locator('summary').first()).toHaveAccessibleName(/^Intent: (support|sales|joke|general)/);
  await waitForReplyEnd(page, 0);

  const texts = await page.evaluate(() => (window as unknown as { replyTexts: string[] }).replyTexts);
  const final = await reply(page, 0).getByTestId('reply-text').textContent();
  expect(final!.length).toBeGreaterThan(0);
  expect(texts.length, 'the reply was seen growing, not only complete').toBeGreaterThan(2);
  expect(texts[0].length).toBeLessThan(final!.length);
  expect(final!.startsWith(texts[0])).toBe(true);
  expect(final).not.toContain('\uFFFD');

  // The three probabilities are one click away.
  await reply(page, 0).locator('summary').first().click();
  for (const intent of ['support', 'sales', 'joke']) {
    await expect(label.or(reply(page, 0)).getByRole('meter', { name: `${intent} probability` })).toBeVisible();
  }
});

test('Stop ends a long reply early and keeps what was written', async ({ page }) => {
  await loadTinyModel(page);
  await sendMessage(page, 'Tell me a very long story about our products.');
  const text = reply(page, 0).getByTestId('reply-text');
  await expect(text).not.toBeEmpty();
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(reply(page, 0).getByText('Stopped.')).toBeVisible();
  const stoppedAt = (await text.textContent())!;
  expect(stoppedAt.length).toBeGreaterThan(0);
  await expect(reply(page, 0).getByText('Cut off at the reply length limit.')).toHaveCount(0);
  await page.waitForTimeout(500);
  await expect(text).toHaveText(stoppedAt);
  await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();
});

test('Stop while the model is still downloading ends the reply without one', async ({ page, context }) => {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: 1_000_000, uploadThroughput: -1 });
  await page.goto(modelLink());
  await sendMessage(page, 'Hello, are you there?');
  await expect(page.getByRole('progressbar')).toBeVisible();
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(reply(page, 0).getByText('Stopped.')).toBeVisible({ timeout: 90_000 });
  await expect(reply(page, 0).getByTestId('reply-text')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();
});

test('Escape stops a reply too', async ({ page }) => {
  await loadTinyModel(page);
  await sendMessage(page, 'Tell me everything about your plans.');
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
  await page.getByRole('textbox', { name: 'Message' }).press('Escape');
  await expect(reply(page, 0).getByText('Stopped.')).toBeVisible();
});

test('the second message is sent with the first turn in its prompt', async ({ page }) => {
  await loadTinyModel(page);
  await sendMessage(page, 'Do you sell laptops?');
  await waitForReplyEnd(page, 0);
  const firstReply = (await reply(page, 0).getByTestId('reply-text').textContent())!;
  await sendMessage(page, 'How much is the cheapest one?');
  await waitForReplyEnd(page, 1);
  await reply(page, 1).getByText('Details', { exact: true }).click();
  const prompt = (await reply(page, 1).getByLabel('Prompt sent').textContent())!;
  expect(prompt).toContain(`Human: Do you sell laptops?\nChatbot: ${firstReply.trim()}\n`);
  expect(prompt).toMatch(/Instructions: .+\nHuman: How much is the cheapest one\?\nChatbot:$/);
  await expect(reply(page, 1)).toContainText('1 earlier turn');
});

test('an empty or blank message cannot be sent; Shift+Enter adds a line', async ({ page }) => {
  await loadTinyModel(page);
  const box = page.getByRole('textbox', { name: 'Message' });
  const send = page.getByRole('button', { name: 'Send' });
  await expect(send).toBeDisabled();
  await box.fill('   \n  ');
  await expect(send).toBeDisabled();
  await box.press('Enter');
  await expect(page.getByRole('article')).toHaveCount(0);
  await box.fill('first line');
  await box.press('Shift+Enter');
  await box.pressSequentially('second line');
  await expect(box).toHaveValue('first line\nsecond line');
  await expect(page.getByRole('article')).toHaveCount(0);
  await box.press('Enter');
  await expect(page.getByRole('article', { name: 'You said' }).getByTestId('user-text')).toHaveText('first line\nsecond line');
});
