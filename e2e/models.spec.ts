import { expect, modelLink, reply, sendMessage, test, waitForReplyEnd, EMPTY_WEBLLM_MIRROR, inferenceWorkers } from './fixtures';
import type { Page } from '@playwright/test';

const picker = (page: Page) => page.getByRole('group', { name: 'Model', exact: true });

test('the picker lists the curated models with their facts, phi-2 first and chosen, and remembers a choice', async ({ page }) => {
  await page.goto('./');
  const models = picker(page).getByRole('radio');
  await expect(models).toHaveCount(5);
  await expect(models.first()).toHaveAccessibleName('phi-2');
  await expect(models.first()).toBeChecked();
  await expect(models.first()).toHaveAccessibleDescription(
    /^1\.6 GB for the GPU, 2\.8 GB for the CPU · 2,048 tokens on the GPU, 704 tokens on the CPU · GPU or CPU · not stored · MIT The default: .+$/,
  );
  const qwen = picker(page).getByRole('radio', { name: 'Qwen2.5 0.5B Instruct' });
  await expect(qwen).toHaveAccessibleDescription(/290\.0 MB for the GPU, 522\.0 MB for the CPU · 4,096 tokens on the GPU, 32,768 tokens on the CPU · GPU or CPU · not stored · Apache-2\.0/);
  await expect(page.getByText('phi-2 is not loaded. The first load downloads it (up to about 2.8 GB), once.')).toBeVisible();

  await qwen.check();
  await expect(page.getByText('Qwen2.5 0.5B Instruct is not loaded.')).toBeVisible();
  await page.reload();
  await expect(picker(page).getByRole('radio', { name: 'Qwen2.5 0.5B Instruct' })).toBeChecked();
});

test('two models in one conversation: each reply names its model, and the conversation offers its model back', async ({ page }) => {
  await page.goto(modelLink());
  // A ?model= link is a custom model outside the list, chosen.
  await expect(picker(page).getByRole('radio', { name: 'phi-tiny' })).toBeChecked();
  await expect(picker(page).getByRole('radio', { name: 'phi-tiny' })).toHaveAccessibleDescription(/Custom folder · CPU only/);
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText(/phi-tiny fp32 · transformers\.js · phi-tiny has no GPU build/, { timeout: 60_000 });
  await sendMessage(page, 'Do you sell laptops?');
  await waitForReplyEnd(page, 0);
  await expect(reply(page, 0).getByText('phi-tiny', { exact: true })).toBeVisible();

  const loadFolder = async (folder: string) => {
    const url = page.getByRole('textbox', { name: 'Model URL' });
    if (!(await url.isVisible())) await page.getByText('Model source').click();
    await url.fill(folder);
    await page.getByRole('combobox', { name: 'Weights' }).selectOption('fp32');
    await page.getByRole('button', { name: 'Load this model' }).click();
  };
  await loadFolder('/models/chat-tiny/');
  await expect(page.getByLabel('Engine')).toContainText('chat-tiny fp32', { timeout: 60_000 });
  const switchBack = page.getByRole('button', { name: 'Switch back to phi-tiny' });
  await expect(switchBack).toBeVisible();
  await switchBack.click();
  await expect(page.getByLabel('Engine')).toContainText(/phi-tiny fp32/, { timeout: 60_000 });
  await expect(switchBack).toHaveCount(0);
  expect(inferenceWorkers(page)).toHaveLength(1);

  await page.getByRole('button', { name: 'Load chat-tiny' }).or(page.getByRole('button', { name: 'Load this model' })).first().click();
  await expect(page.getByLabel('Engine')).toContainText('chat-tiny fp32', { timeout: 60_000 });
  await sendMessage(page, 'Tell me a joke');
  await waitForReplyEnd(page, 1);
  await expect(reply(page, 1).getByText('chat-tiny', { exact: true })).toBeVisible();
  await expect(reply(page, 0).getByText('phi-tiny', { exact: true })).toBeVisible();
  await reply(page, 1).getByText('Details').click();
  await expect(reply(page, 1).locator('dd', { hasText: 'chat-tiny (' })).toContainText('/models/chat-tiny/');
  // Each model was prompted in its own format: the chat model reads the whole conversation, phi-tiny's
  // turn included, through its template; phi-tiny's own prompt was plain text.
  await expect(reply(page, 1).getByLabel('Prompt sent')).toContainText('<|im_start|>user\nDo you sell laptops?<|im_end|>');
  await expect(reply(page, 1).getByLabel('Prompt sent')).toContainText('Tell me a joke<|im_end|>\n<|im_start|>assistant');
  await reply(page, 0).getByText('Details').click();
  await expect(reply(page, 0).getByLabel('Prompt sent')).toContainText('Human: Do you sell laptops?');

  // The conversation now belongs to chat-tiny: loading phi-tiny again offers it back, across a reload.
  await loadFolder('/models/phi-tiny/');
  await expect(page.getByLabel('Engine')).toContainText(/phi-tiny fp32/, { timeout: 60_000 });
  await page.reload();
  await expect(page.getByRole('button', { name: 'Switch back to chat-tiny' })).toBeVisible();
});

test('a model that does not fit the device is refused before anything is downloaded, with Load anyway', async ({ page }) => {
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'deviceMemory', { get: () => 1 }));
  await page.goto(`./?webllm=${encodeURIComponent(EMPTY_WEBLLM_MIRROR)}`);
  await expect(page.getByRole('status', { name: 'Fit' })).toHaveText('phi-2 needs about 5.6 GB of memory on the CPU, and this device reports 1 GB: it would likely crash the tab.');
  await page.getByRole('button', { name: 'Load model' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('phi-2 was not loaded. phi-2 needs about 5.6 GB of memory on the CPU');
  await expect(alert.getByRole('button', { name: 'Load anyway' })).toBeVisible();
  // A small model fits the same device.
  await picker(page).getByRole('radio', { name: 'Qwen2.5 0.5B Instruct' }).check();
  await expect(page.getByRole('status', { name: 'Fit' })).toHaveCount(0);
  expect(requests.filter((url) => /huggingface|\/models\/|\.onnx|webllm\//.test(url)), 'no model file was requested').toEqual([]);
});
