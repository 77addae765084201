// @vitest-environment jsdom
// jsdom, not happy-dom: DOMPurify under happy-dom silently leaves scripts and handlers in place.
import { describe, expect, it } from 'vitest';
import { MarkdownStream, renderMarkdown, sanitize, settledBlockEnds } from './markdown';

const dom = (html: string) => {
  const template = document.createElement('template');
  template.innerHTML = html;
  return template.content;
};
const squash = (html: string) => html.replace(/>\s+</g, '><').trim();

const HOSTILE = [
  '# <img src=x onerror="window.__pwned=0">',
  '<img src=x onerror="window.__pwned=1">',
  '<script>window.__pwned=2</script>',
  '[click me](javascript:window.__pwned=3)',
  '[spaced]( JaVaScRiPt:alert(1))',
  '[entity](&#106;avascript:alert(1))',
  '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '![tracker](http://example.com/pixel.png)',
  '<a href="javascript:alert(1)" onclick="alert(1)">raw link</a>',
  '<svg onload=alert(1)><image href="http://example.com/a.png"/></svg>',
  '<style>body { background: url(http://example.com/bg.png) }</style>',
  '<iframe src="http://example.com"></iframe>',
  '<div style="background:url(http://example.com/x)">styled</div>',
].join('\n\n');

describe('renderMarkdown', () => {
  it('renders the Markdown a reply uses', () => {
    const html = renderMarkdown('# Title\n\nSome **bold**, _em_ and `code`.\n\n- one\n- two\n\n1. first\n2. second\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |');
    const root = dom(html);
    expect(root.querySelector('h3')?.textContent).toBe('Title');
    expect(root.querySelector('h1, h2')).toBeNull();
    expect(root.querySelector('strong')?.textContent).toBe('bold');
    expect(root.querySelector('em')?.textContent).toBe('em');
    expect(root.querySelector('p > code')?.textContent).toBe('code');
    expect(root.querySelectorAll('ul > li')).toHaveLength(2);
    expect(root.querySelectorAll('ol > li')).toHaveLength(2);
    expect(root.querySelector('blockquote')?.textContent?.trim()).toBe('quoted');
    expect(root.querySelectorAll('td')).toHaveLength(2);
  });

  it('highlights a fenced code block and gives it a language label and a copy button', () => {
    const root = dom(renderMarkdown('```python\ndef greet(name):\n    return "hi " + name\n```'));
    const block = root.querySelector('.code-block')!;
    expect(block.querySelector('.code-lang')?.textContent).toBe('Python');
    const button = block.querySelector('button')!;
    expect(button.getAttribute('type')).toBe('button');
    expect(button.getAttribute('aria-label')).toBe('Copy code');
    expect(button.textContent).toBe('');
    const code = block.querySelector('pre > code')!;
    expect(code.textContent).toBe('def greet(name):\n    return "hi " + name\n');
    expect(code.querySelector('.hljs-keyword')?.textContent).toBe('def');
    expect(code.querySelector('.hljs-string')?.textContent).toBe('"hi "');
  });

  it('shows code in an unknown or missing language as plain, escaped text', () => {
    for (const source of ['```brainfuck\n<b>++</b>\n```', '```\n<b>++</b>\n```', '    <b>++</b>']) {
      const root = dom(renderMarkdown(source));
      expect(root.querySelector('pre code')?.textContent).toBe('<b>++</b>\n');
      expect(root.querySelector('pre b')).toBeNull();
      expect(root.querySelector('.copy-code')).not.toBeNull();
    }
  });

  it('shows raw HTML from the model as text, and lets nothing run or load', () => {
    const html = renderMarkdown(HOSTILE);
    const root = dom(html);
    expect(root.querySelectorAll('img, script, svg, style, iframe, [style], [onerror], [onclick], [onload]')).toHaveLength(0);
    expect(root.textContent).toContain('<img src=x onerror="window.__pwned=1">');
    expect(root.textContent).toContain('<script>window.__pwned=2</script>');
    for (const link of root.querySelectorAll('a[href]')) {
      expect(link.getAttribute('href')).toMatch(/^https?:/);
      expect(link.getAttribute('rel')).toBe('noopener noreferrer');
      expect(link.getAttribute('target')).toBe('_blank');
    }
    // The image became a link the user may follow, not a request made for them.
    expect(root.querySelector('a[href="http://example.com/pixel.png"]')?.textContent).toBe('Image: tracker');
    expect(root.querySelectorAll('a[href]')).toHaveLength(1);
    expect(root.textContent).toContain('click me');
  });

  it('keeps http, https and mailto links', () => {
    const root = dom(renderMarkdown('[a](https://example.com/a) [b](http://example.com/b) <mailto:me@example.com> www.example.org'));
    expect([...root.querySelectorAll('a')].map((a) => a.getAttribute('href'))).toEqual([
      'https://example.com/a',
      'http://example.com/b',
      'mailto:me@example.com',
      'http://www.example.org',
    ]);
  });
});

describe('sanitize', () => {
  it('leaves no script, handler, media, style or foreign URL, even in HTML that skipped Markdown', () => {
    const html = sanitize(
      '<img src=x onerror=alert(1)><script>alert(1)</script><a href="javascript:alert(1)">j</a>' +
        '<a href=" JaVaScRiPt:alert(1)">spaced</a><a href="/relative">relative</a><a href="data:text/html,x">data</a>' +
        '<svg onload=alert(1)></svg><math><mi xlink:href="javascript:alert(1)">m</mi></math>' +
        '<style>*{background:url(http://example.com)}</style><link rel=stylesheet href="http://example.com/x.css">' +
        '<iframe src="http://example.com"></iframe><object data="http://example.com"></object><embed src="http://example.com">' +
        '<video poster="http://example.com/p.png" src="http://example.com/v.mp4"></video><audio src="http://example.com/a.mp3"></audio>' +
        '<table background="http://example.com/t.png"><tr><td>cell</td></tr></table>' +
        '<form action="http://example.com"><input type="image" src="http://example.com/i.png"><button formaction="javascript:alert(1)">b</button></form>' +
        '<p id="app" name="x" data-x="1" style="position:fixed" class="scrim hljs-keyword">kept</p>',
    );
    const root = dom(html);
    const allowedAttributes = new Set(['href', 'title', 'class', 'align', 'start', 'colspan', 'rowspan', 'target', 'rel', 'tabindex']);
    for (const element of root.querySelectorAll('*')) {
      for (const { name } of element.attributes) expect(allowedAttributes, `${element.tagName} ${name}`).toContain(name);
      expect(['IMG', 'SCRIPT', 'SVG', 'MATH', 'STYLE', 'LINK', 'IFRAME', 'OBJECT', 'EMBED', 'VIDEO', 'AUDIO', 'FORM', 'INPUT', 'BUTTON']).not.toContain(element.tagName.toUpperCase());
    }
    expect(root.querySelectorAll('a[href]')).toHaveLength(0);
    expect(root.querySelector('p')?.className).toBe('hljs-keyword');
    expect(root.textContent).toContain('kept');
  });
});

describe('settledBlockEnds', () => {
  it('settles a block once the next one has started on a complete line', () => {
    expect(settledBlockEnds('One.\n\nTwo.\n\nThree')).toEqual([6]);
    expect(settledBlockEnds('One.\n\nTwo.\n\nThree\n')).toEqual([6, 12]);
    expect(settledBlockEnds('One.\n\nTwo.\n\nThree\n', 6)).toEqual([12]);
  });

  it('never splits a code fence, a list or an indented continuation', () => {
    expect(settledBlockEnds('```\na\n\nb\n```\n')).toEqual([]);
    expect(settledBlockEnds('~~~~\na\n\n~~~\nb\n~~~~\n\nafter\n')).toEqual([20]);
    expect(settledBlockEnds('- a\n\n- b\n\n1. c\n\n   more of c\n')).toEqual([]);
    expect(settledBlockEnds('Intro\n\n    indented code\n')).toEqual([]);
  });

  it('ignores blank lines before the first block', () => {
    expect(settledBlockEnds('\n\nFirst\n')).toEqual([]);
  });
});

describe('MarkdownStream', () => {
  const REPLY = [
    'Sure! Here is how to **sort** a list in Python:',
    '```python\nnumbers = [3, 1, 2]\n\nnumbers.sort()\nprint(numbers)\n```',
    'Steps:\n\n1. Make the list.\n2. Call `sort()`.\n\n   It sorts in place.\n3. Print it.',
    '> Note: `sorted()` returns a new list.',
    '| Method | In place |\n|---|---|\n| sort | yes |\n| sorted | no |',
    'See [the docs](https://docs.python.org/3/howto/sorting.html) for more.',
  ].join('\n\n');

  it('streamed token by token, ends with exactly what one full render gives', () => {
    const stream = new MarkdownStream();
    let blocks: string[] = [];
    for (let i = 1; i <= REPLY.length; i += 3) blocks = stream.update(REPLY.slice(0, i));
    blocks = stream.update(REPLY);
    expect(squash(blocks.join(''))).toBe(squash(renderMarkdown(REPLY)));
    expect(squash(new MarkdownStream().update(REPLY).join(''))).toBe(squash(renderMarkdown(REPLY)));
    expect(blocks.length).toBeGreaterThan(3);
  });

  it('keeps the settled blocks as they were, so they are not rendered again', () => {
    const stream = new MarkdownStream();
    const first = stream.update('First paragraph.\n\nSecond paragraph.\n\nThird\n');
    const second = stream.update('First paragraph.\n\nSecond paragraph.\n\nThird\nparagraph, longer now');
    expect(second[0]).toBe(first[0]);
    expect(second[1]).toBe(first[1]);
    expect(second[2]).not.toBe(first[2]);
  });

  it('parses each character a bounded number of times, not once per token', () => {
    const paragraph = 'The quick brown fox jumps over the lazy dog, then naps in the sun for a while.';
    const reply = (paragraphs: number) => Array.from({ length: paragraphs }, (_, i) => `Paragraph ${i}: ${paragraph}`).join('\n\n');
    const parsedWhileStreaming = (text: string) => {
      const stream = new MarkdownStream();
      for (let i = 8; i < text.length; i += 8) stream.update(text.slice(0, i));
      stream.update(text);
      return stream.parsedChars;
    };
    const short = parsedWhileStreaming(reply(30));
    const long = parsedWhileStreaming(reply(60));
    // Re-parsing everything on each token would make twice the text four times the work.
    expect(long / short).toBeLessThan(2.2);
    expect(long).toBeLessThan(25 * reply(60).length);
  });

  it('starts afresh when the text is replaced rather than extended', () => {
    const stream = new MarkdownStream();
    stream.update('Old reply.\n\nWith two paragraphs.');
    expect(squash(stream.update('A **new** reply.').join(''))).toBe('<p>A <strong>new</strong> reply.</p>');
  });

  it('renders nothing for an empty or blank reply', () => {
    expect(new MarkdownStream().update('')).toEqual([]);
    expect(new MarkdownStream().update('  \n')).toEqual([]);
  });
});
