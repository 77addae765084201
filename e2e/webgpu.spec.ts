import type { Route } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH, SWIFTSHADER_ARGS } from './browser';
import { expect, expectChatToWork, modelLink, recordWebLLMRequests, test, inferenceWorkers } from './fixtures';

// The generated model as phi-2's CPU build, so that phi-2's GPU builds are tried first.
const PHI2_LINK = `${modelLink()}&as=phi-2`;

// SwiftShader: a software WebGPU adapter, without shader-f16.
test.use({ launchOptions: { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...SWIFTSHADER_ARGS] } });

test('picks phi-2 q4f32, tries WebLLM on the mirror, reports why it failed, falls back to the CPU and chats', async ({ page, context }) => {
  const requests = recordWebLLMRequests(context);
  await page.goto(PHI2_LINK);
  await page.getByRole('button', { name: 'Load model' }).click();

  await expect(page.getByLabel('Engine')).toContainText(/CPU \(WASM, \d+ threads?\) · phi-tiny fp32 · transformers\.js · the GPU model did not load/, {
    timeout: 60_000,
  });
  const why = page.getByRole('status', { name: 'Why not the GPU' });
  await expect(why).toContainText('Tried phi-2 q4f32 (no shader-f16 on this adapter) first:');
  await expect(why).toContainText(/Could not download http:\/\/127\.0\.0\.1:\d+\/webllm\/phi-2-q4f32_1-MLC\/resolve\/main\/mlc-chat-config\.json\./);
  await why.getByText('Technical details').click();
  await expect(why.locator('pre')).toContainText('Failed to store');

  expect(requests.some((url) => url.includes('/assets/webllm-engine-')), 'the WebLLM chunk was loaded').toBe(true);
  expect(requests.some((url) => url.endsWith('/webllm/phi-2-q4f32_1-MLC/resolve/main/mlc-chat-config.json')), 'the mirror was asked').toBe(true);
  await expectChatToWork(page);
});

test('forcing CPU (WASM) skips WebLLM entirely, says so, and is remembered', async ({ page, context }) => {
  const requests = recordWebLLMRequests(context);
  await page.goto(PHI2_LINK);
  await page.getByRole('radio', { name: 'CPU (WASM)' }).check();
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText(/CPU \(WASM, \d+ threads?\) · phi-tiny fp32 · transformers\.js · CPU forced in settings/, {
    timeout: 60_000,
  });
  await expect(page.getByRole('status', { name: 'Why not the GPU' })).toHaveCount(0);
  await expectChatToWork(page);
  expect(requests, 'no WebLLM code or files were requested').toEqual([]);

  await page.reload();
  await expect(page.getByRole('radio', { name: 'CPU (WASM)' })).toBeChecked();
});

test('forcing the GPU when WebLLM cannot load is an error that says what to do, with nothing loaded behind it', async ({ page }) => {
  await page.goto(PHI2_LINK);
  await page.getByRole('radio', { name: 'GPU (WebLLM)' }).check();
  await page.getByRole('button', { name: 'Load model' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('phi-2 q4f32 did not load on the GPU: Could not download');
  await expect(alert).toContainText('Choose Auto or CPU (WASM) to run it on the CPU.');
  await expect(page.getByLabel('Engine')).toHaveCount(0);

  // Choosing Auto from there recovers.
  await page.getByRole('radio', { name: 'Auto' }).check();
  await expect(page.getByLabel('Engine')).toContainText('the GPU model did not load', { timeout: 60_000 });
});

test('quick engine switches end on the last choice, with one model loaded', async ({ page }) => {
  await page.goto(PHI2_LINK);
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('transformers.js', { timeout: 60_000 });

  await page.getByRole('radio', { name: 'GPU (WebLLM)' }).check();
  await page.getByRole('radio', { name: 'CPU (WASM)' }).check();
  await expect(page.getByLabel('Engine')).toContainText('CPU forced in settings', { timeout: 60_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);
  // A worker replaced by the switch may take a moment to be gone (its onnxruntime threads end with it).
  await expect.poll(() => inferenceWorkers(page).length, { timeout: 10_000 }).toBe(1);
  await expectChatToWork(page);
});

test('cancelling a GPU load mid-download stops it: the CPU model loads and the mirror hears nothing more', async ({ page }) => {
  const mirrorRequests: string[] = [];
  const held: { config?: Route } = {};
  await page.route('**/webllm/**', async (route) => {
    mirrorRequests.push(route.request().url());
    // The first file WebLLM asks for stays in flight, so the cancel lands mid-download.
    if (route.request().url().endsWith('/mlc-chat-config.json')) held.config = route;
    else await route.fulfill({ status: 404 });
  });
  await page.goto(PHI2_LINK);
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect.poll(() => held.config !== undefined, { timeout: 60_000 }).toBe(true);

  await page.getByRole('radio', { name: 'CPU (WASM)' }).check();
  await expect(page.getByLabel('Engine')).toContainText('CPU forced in settings', { timeout: 60_000 });
  // Answering the cancelled request now must not start the rest of WebLLM's downloads.
  await held.config!.fulfill({ json: { model_type: 'phi', conv_template: {}, tokenizer_files: ['tokenizer.json'] } }).catch(() => undefined);
  await page.waitForTimeout(2000);
  expect(mirrorRequests.map((url) => new URL(url).pathname)).toEqual(['/webllm/phi-2-q4f32_1-MLC/resolve/main/mlc-chat-config.json']);
  expect(inferenceWorkers(page)).toHaveLength(1);
});
