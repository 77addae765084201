import { expect, expectChatToWork, modelLink, recordWebLLMRequests, test } from './fixtures';

// The generated model as phi-2's CPU build, so that phi-2's GPU builds are tried first.
const PHI2_LINK = `${modelLink()}&as=phi-2`;

// Headless Chromium with default flags has navigator.gpu but no adapter.
test('without a GPU adapter, the app runs on the CPU, says why, and chats', async ({ page, context }) => {
  const requests = recordWebLLMRequests(context);
  await page.goto(PHI2_LINK);
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText(
    /CPU \(WASM, \d+ threads?\) · phi-tiny fp32 · transformers\.js · WebGPU found no graphics adapter/,
    { timeout: 60_000 },
  );
  await expect(page.getByRole('radio', { name: 'Auto' })).toBeChecked();
  await expectChatToWork(page);
  expect(requests, 'WebLLM is not even fetched without an adapter').toEqual([]);
});
