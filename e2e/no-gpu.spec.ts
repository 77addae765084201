import { expect, expectChatToWork, modelLink, recordWebLLMRequests, test } from './fixtures';

// Headless Chromium with default flags has navigator.gpu but no adapter.
test('without a GPU adapter, the app runs on the CPU, says why, and chats', async ({ page, context }) => {
  const requests = recordWebLLMRequests(context);
  await page.goto(modelLink());
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText(
    /CPU \(WASM, \d+ threads?\) · phi-tiny fp32 · transformers\.js · WebGPU found no graphics adapter/,
    { timeout: 60_000 },
  );
  await expect(page.getByRole('radio', { name: 'Auto' })).toBeChecked();
  await expectChatToWork(page);
  expect(requests, 'WebLLM is not even fetched without an adapter').toEqual([]);
});
