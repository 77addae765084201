import { expect, modelLink, test } from './fixtures';

// Without the service worker's precache, so that the dialog's own chunk comes from the server, where the test can fail it.
test.use({ serviceWorkers: 'block' });

test('a dialog whose code cannot be loaded says so, and opens after the reload it asks for', async ({ page }) => {
  let blocked = true;
  await page.route(/\/SettingsDialog-[\w-]+\.js$/, (route) => (blocked ? route.abort() : route.continue()));
  await page.goto(modelLink());
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByRole('alert')).toHaveText('Settings could not be shown: part of the app could not be loaded. Reload the page to try again.');

  // Chromium keeps a failed import failed for the page's life: hence the reload.
  blocked = false;
  await page.reload();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByRole('dialog', { name: 'Settings' })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
});
