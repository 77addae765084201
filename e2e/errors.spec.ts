import type { Page } from '@playwright/test';
import { expect, loadTinyModel, modelLink, reply, sendMessage, test, TINY_MODEL, waitForReplyEnd, inferenceWorkers } from './fixtures';

test('a model URL that 404s names the missing file, offers Retry and keeps the app usable', async ({ page }) => {
  await page.goto(modelLink('/models/does-not-exist/'));
  await page.getByRole('button', { name: 'Load model' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('The model did not load.');
  await expect(alert).toContainText(/Could not download http:\/\/127\.0\.0\.1:\d+\/models\/does-not-exist\/\S+\.json \(HTTP 404\)/);
  await expect(alert.getByRole('button', { name: 'Retry' })).toBeVisible();
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('still typing');
  await expect(box).toHaveValue('still typing');

  // Pointing the app at a working model from the same screen recovers it.
  await page.getByText('Model source').click();
  await page.getByRole('textbox', { name: 'Model URL' }).fill('/models/phi-tiny/');
  await page.getByRole('combobox', { name: 'Weights' }).selectOption('fp32');
  await page.getByRole('button', { name: 'Load this model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('transformers.js');
  await expect(page.getByLabel('Engine')).toContainText('phi-tiny fp32');
});

test('a broken ONNX file is named in the error', async ({ page }) => {
  await page.goto(modelLink('/models/broken-onnx/'));
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByRole('alert')).toContainText('onnx/model.onnx is broken or not part of a transformers.js model.');
  await expect(page.getByRole('button', { name: 'Retry' })).toBeVisible();
});

test('a broken config.json is named in the error', async ({ page }) => {
  await page.goto(modelLink('/models/broken-config/'));
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByRole('alert')).toContainText('config.json is broken or not part of a transformers.js model.');
});

test('a message longer than the context gets a clear message, and chat goes on', async ({ page }) => {
  await loadTinyModel(page);
  await sendMessage(page, 'please help '.repeat(1500));
  await expect(reply(page, 0).getByRole('alert')).toContainText(/too long for the model: the prompt needs \d+ tokens, but only \d+ fit/);
  await sendMessage(page, 'Short question then.');
  await waitForReplyEnd(page, 1);
  await expect(reply(page, 1).getByTestId('reply-text')).not.toBeEmpty();
});

test('a worker crash mid-reply is reported, keeps the conversation, and the next message starts a new worker', async ({ page }) => {
  await loadTinyModel(page);
  await sendMessage(page, 'First question, answered in full.');
  await waitForReplyEnd(page, 0);
  const firstReply = (await reply(page, 0).getByTestId('reply-text').textContent())!;

  await sendMessage(page, 'Second question, interrupted by a crash.');
  await expect(reply(page, 1).getByTestId('reply-text')).not.toBeEmpty();
  const [worker] = inferenceWorkers(page);
  // An uncaught exception inside the worker: what the page sees when the worker dies.
  await worker.evaluate(() => setTimeout(() => { throw new Error('simulated crash'); }));
  await expect(reply(page, 1).getByRole('alert')).toContainText('The model worker crashed');
  await expect(page.getByRole('alert').first()).toContainText('The model worker crashed');
  await expect(reply(page, 0).getByTestId('reply-text')).toHaveText(firstReply);
  await expect(reply(page, 1).getByTestId('reply-text')).not.toBeEmpty();

  await sendMessage(page, 'Third question, after the crash.');
  await waitForReplyEnd(page, 2);
  await expect(reply(page, 2).getByTestId('reply-text')).not.toBeEmpty();
  await expect(page.getByLabel('Engine')).toContainText('transformers.js');
  expect(inferenceWorkers(page).length).toBe(1);
  await expect(page.getByRole('article', { name: 'You said' })).toHaveCount(3);
});

/** Points Model source at the generated model and loads it, in the same tab. */
async function loadGoodModelFromModelSource(page: Page) {
  await page.getByText('Model source').click();
  await page.getByRole('textbox', { name: 'Model URL' }).fill(TINY_MODEL);
  await page.getByRole('combobox', { name: 'Weights' }).selectOption('fp32');
  await page.getByRole('button', { name: 'Load this model' }).click();
  // A fresh worker compiles onnxruntime's WASM again: as long as a first load.
  await expect(page.getByLabel('Engine')).toContainText('phi-tiny fp32', { timeout: 60_000 });
  // The session runs: the reply's first words arrive.
  await sendMessage(page, 'Do you sell laptops?');
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
}

test('after a truncated ONNX file fails to load, the good model loads in the same tab', async ({ page }) => {
  // Two loads, the second in a fresh worker, and a reply.
  test.slow();
  await page.goto(modelLink('/models/broken-onnx/'));
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByRole('alert')).toContainText('onnx/model.onnx is broken or not part of a transformers.js model.', { timeout: 60_000 });
  await loadGoodModelFromModelSource(page);
});

test('after a q4 file that the server answers with an HTML page, the good model loads in the same tab', async ({ page }) => {
  // Two loads, the second in a fresh worker, and a reply.
  test.slow();
  // A static host that answers every unknown path with its index page, as single-page-app hosts do.
  await page.route('**/models/phi-tiny/onnx/model_q4.onnx', (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html><body>Not here</body></html>' }),
  );
  await page.goto(`./?model=${encodeURIComponent(TINY_MODEL)}&dtype=q4&webllm=%2Fwebllm%2F`);
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByRole('alert')).toContainText('onnx/model_q4.onnx is broken or not part of a transformers.js model.', { timeout: 60_000 });
  await loadGoodModelFromModelSource(page);
});
