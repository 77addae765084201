import type { Page } from '@playwright/test';
import { openImportedConversation } from './conversation-file';
import { expect, loadTinyModel, reply, sendMessage, setMaxNewTokens, test, waitForReplyEnd } from './fixtures';

const HOSTILE_REPLY = [
  'Here is a picture: <img src=x onerror="window.__pwned = 1; alert(1)">',
  '<script>window.__pwned = 2; alert(2)</script>',
  'And [a harmless link](javascript:window.__pwned=3;alert(3)) to click.',
  '![tracking pixel](http://tracker.example.com/pixel.png)',
  '<a href="javascript:alert(4)" onmouseover="window.__pwned = 4">raw link</a> <svg onload="window.__pwned = 5"></svg>',
  '<iframe src="http://evil.example.com/"></iframe><style>body { background: url(http://evil.example.com/bg.png) }</style>',
  'A [real link](https://example.com/docs) may stay.',
].join('\n\n');

test('a reply with an onerror image, a script and javascript: links renders inert: nothing runs, nothing loads', async ({ page }) => {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto('./');
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await openImportedConversation(page, 'Hostile reply', [{ user: 'Show me something', reply: HOSTILE_REPLY }]);

  const text = reply(page, 0).getByTestId('reply-text');
  // The markup is shown as what it is: text.
  await expect(text).toContainText('<img src=x onerror="window.__pwned = 1; alert(1)">');
  await expect(text).toContainText('<script>window.__pwned = 2; alert(2)</script>');
  await expect(text.locator('img, script, svg, iframe, style, object, embed, [onerror], [onload], [onmouseover], [style]')).toHaveCount(0);

  // Only the https link keeps its address, and it opens apart from the app.
  const links = text.locator('a[href]');
  await expect(links).toHaveCount(2);
  await expect(text.getByRole('link', { name: 'real link' })).toHaveAttribute('href', 'https://example.com/docs');
  await expect(text.getByRole('link', { name: 'real link' })).toHaveAttribute('rel', 'noopener noreferrer');
  // The image is offered as a link to follow, not fetched.
  await expect(text.getByRole('link', { name: 'Image: tracking pixel' })).toHaveAttribute('href', 'http://tracker.example.com/pixel.png');
  await text.getByText('a harmless link').click();
  await text.getByText('raw link').hover();

  await page.waitForTimeout(500);
  expect(dialogs).toEqual([]);
  expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
  // Not even to this server (the image's src=x is a relative URL); requests elsewhere fail the fixture.
  expect(requests.filter((url) => !/\/assets\/|favicon/.test(url)), 'requests made while the reply was shown').toEqual([]);
});

test('Markdown renders: headings, emphasis, lists, tables and links; user messages stay plain text', async ({ page }) => {
  await page.goto('./');
  const user = 'Use **bold** and <b>tags</b>, please';
  await openImportedConversation(page, 'Formatting', [
    {
      user,
      reply: '## Plans\n\nOur **pro** plan is _great_:\n\n- fast\n- cheap\n\n| Plan | Price |\n|---|---|\n| Basic | free |\n| Pro | $5 |\n\nSee [pricing](https://example.com/pricing).',
    },
  ]);
  const text = reply(page, 0).getByTestId('reply-text');
  // Under the conversation's own h2, a reply's headings start at h3.
  await expect(text.getByRole('heading', { name: 'Plans', level: 4 })).toBeVisible();
  await expect(text.locator('strong')).toHaveText('pro');
  await expect(text.getByRole('listitem')).toHaveText(['fast', 'cheap']);
  await expect(text.getByRole('table')).toBeVisible();
  await expect(text.getByRole('cell', { name: '$5' })).toBeVisible();
  await expect(text.getByRole('link', { name: 'pricing' })).toHaveAttribute('target', '_blank');
  await expect(text).not.toContainText('**');

  const said = page.getByRole('article', { name: 'You said' });
  await expect(said.getByTestId('user-text')).toHaveText(user);
  await expect(said.locator('strong, b')).toHaveCount(0);
});

test('code blocks are highlighted, labelled, and their copy buttons copy exactly the code, by mouse or keyboard', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('./');
  const python = 'def greet(name):\n    return f"Hello, {name}!"';
  await openImportedConversation(page, 'Code', [
    { user: 'Some code please', reply: `In Python:\n\n\`\`\`python\n${python}\n\`\`\`\n\nAnd in a shell:\n\n\`\`\`bash\necho "hi" | wc -c\n\`\`\`` },
  ]);
  const text = reply(page, 0).getByTestId('reply-text');
  await expect(text.getByText('Python', { exact: true })).toBeVisible();
  await expect(text.getByText('Bash', { exact: true })).toBeVisible();
  await expect(text.locator('pre code').first()).toHaveText(python);
  await expect(text.locator('pre code .hljs-keyword').first()).toHaveText('def');

  const readClipboard = () => page.evaluate(() => navigator.clipboard.readText());
  await text.getByRole('button', { name: 'Copy code' }).first().click();
  await expect(text.getByRole('button', { name: 'Copied' })).toHaveCount(1);
  expect(await readClipboard()).toBe(python);
  await expect(page.getByRole('status').filter({ hasText: 'Code copied.' })).toHaveCount(1);

  const shellCopy = text.locator('.copy-code').last();
  await shellCopy.focus();
  await page.keyboard.press('Enter');
  await expect(shellCopy).toHaveAccessibleName('Copied');
  expect(await readClipboard()).toBe('echo "hi" | wc -c');
  // The buttons go back to their label.
  await expect(text.getByRole('button', { name: 'Copy code' })).toHaveCount(2, { timeout: 5000 });
});

/** Records, in the page, how many times each animation frame changed the streaming reply's DOM. */
async function countRendersPerFrame(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { rendersPerFrame: Map<number, number> };
    w.rendersPerFrame = new Map();
    // Frames are numbered by a rAF loop of our own: its callback is queued a frame ahead, so it runs
    // before the app's in every frame. (Chromium can give two frames the same timestamp, so
    // neither the rAF argument nor document.timeline tells frames apart.)
    let frame = 0;
    const tick = () => {
      frame += 1;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    new MutationObserver((records) => {
      const live = records.some((r) => {
        const element = r.target instanceof Element ? r.target : r.target.parentElement;
        return element?.closest('[data-testid="reply-text"]')?.classList.contains('live');
      });
      if (live) w.rendersPerFrame.set(frame, (w.rendersPerFrame.get(frame) ?? 0) + 1);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => [...(window as unknown as { rendersPerFrame: Map<number, number> }).rendersPerFrame.values()]);
}

test('a streamed reply renders at most once per animation frame', async ({ page }) => {
  await loadTinyModel(page);
  const renders = await countRendersPerFrame(page);
  await sendMessage(page, 'Tell me a very long story about our products.');
  await waitForReplyEnd(page, 0);
  const perFrame = await renders();
  expect(perFrame.length, 'the reply was rendered over several frames').toBeGreaterThan(2);
  expect(Math.max(...perFrame)).toBe(1);
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
});

test('a reply streaming before the Markdown renderer has loaded also renders at most once per frame', async ({ page, context }) => {
  // Hold the renderer's lazy chunk back (it still comes from the local server), so the first part of
  // the reply streams as plain text.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await context.route(/\/assets\/markdown-[^/]+\.js$/, async (route) => {
    await held;
    await route.continue();
  });
  await loadTinyModel(page);
  const renders = await countRendersPerFrame(page);
  await sendMessage(page, 'Tell me a very long story about our products.');
  await expect(reply(page, 0).locator('p.plain')).not.toBeEmpty();
  release();
  await waitForReplyEnd(page, 0);
  const perFrame = await renders();
  expect(perFrame.length, 'the reply was rendered over several frames').toBeGreaterThan(2);
  expect(Math.max(...perFrame)).toBe(1);
});

test('auto-scroll follows the reply until the user scrolls up; then "Jump to latest" brings them back', async ({ page }) => {
  await loadTinyModel(page);
  const long = 'A line of an earlier answer that takes up some room.\n\n'.repeat(6);
  await openImportedConversation(page, 'Long conversation', Array.from({ length: 8 }, (_, i) => ({ user: `Question ${i + 1}`, reply: long })));
  const log = page.getByRole('log', { name: 'Conversation' });
  const distanceFromBottom = () => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  const jump = page.getByRole('button', { name: 'Jump to latest' });
  await expect.poll(distanceFromBottom).toBeLessThan(2);
  await expect(jump).toBeHidden();

  // Following: the reply streams in and the view stays at its end.
  await sendMessage(page, 'Tell me a very long story about our products.');
  await waitForReplyEnd(page, 8);
  await expect.poll(distanceFromBottom).toBeLessThan(2);

  // Scrolled up: the view stays put while the next reply streams, and the button appears.
  await sendMessage(page, 'And another long story, please.');
  await expect(reply(page, 9).getByTestId('reply-text')).not.toBeEmpty();
  await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight / 3, behavior: 'instant' }));
  await expect(jump).toBeVisible();
  const scrolledTo = await log.evaluate((el) => el.scrollTop);
  await waitForReplyEnd(page, 9);
  expect(await log.evaluate((el) => el.scrollTop)).toBe(scrolledTo);
  expect(await distanceFromBottom()).toBeGreaterThan(100);

  await jump.click();
  await expect.poll(distanceFromBottom).toBeLessThan(2);
  await expect(jump).toBeHidden();
});

test('a finished reply is announced once, not token by token', async ({ page }) => {
  await loadTinyModel(page);
  await expect(page.getByRole('log', { name: 'Conversation' })).toHaveAttribute('aria-live', 'off');
  const announcer = page.getByRole('status').filter({ hasText: /^phi-2 / });
  await sendMessage(page, 'Do you sell laptops?');
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
  await waitForReplyEnd(page, 0);
  const shown = (await reply(page, 0).getByTestId('reply-text').textContent())!.trim();
  await expect(announcer).toContainText(`phi-2 replied: ${shown}`);
});

test('while a reply streams, its cursor blinks without a running animation, and goes when the reply ends', async ({ page }) => {
  await loadTinyModel(page);
  // A long reply, so it streams for a few seconds.
  await setMaxNewTokens(page, 1024);

  await sendMessage(page, 'Tell me a very long story about our products.');
  const text = reply(page, 0).getByTestId('reply-text');
  await expect(text).toHaveClass(/live/);
  // The cursor is the ::after of the block being written. A CSS animation on it made Chromium draw
  // a frame every vsync for as long as the reply streamed; the blink is a class switched instead.
  const seen = await text.evaluate(async (element) => {
    const cursorVisibility = () => {
      const blocks = [element.lastElementChild, element.querySelector(':scope > :is(ul, ol):last-child > li:last-child')];
      const style = blocks.map((b) => b && getComputedStyle(b, '::after')).find((s) => s?.content === '"▍"');
      return style?.visibility ?? 'none';
    };
    const states = new Set<string>();
    let animations = 0;
    const until = performance.now() + 1500;
    while (performance.now() < until && element.classList.contains('live') && states.size < 2) {
      states.add(cursorVisibility());
      animations = Math.max(animations, document.getAnimations().length);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    return { states: [...states].sort(), animations, stillStreaming: element.classList.contains('live') };
  });
  expect(seen.stillStreaming, 'the reply was still streaming when the cursor had blinked').toBe(true);
  expect(seen.states).toEqual(['hidden', 'visible']);
  expect(seen.animations).toBe(0);

  await waitForReplyEnd(page, 0);
  await expect(text).not.toHaveClass(/live/);
  expect(await text.evaluate((element) => [...element.children].map((b) => getComputedStyle(b, '::after').content).filter((c) => c !== 'none'))).toEqual([]);
});
