/**
 * Replies as Markdown: parse with marked, highlight code with highlight.js, sanitize with DOMPurify.
 * The model is not a trusted author: its raw HTML is shown as text, and what survives sanitizing
 * can neither run script nor make a request (no images, media, frames, styles or non-http links).
 *
 * Loaded lazily (see markdown-loader.svelte.ts), so none of this weighs on the first paint.
 */
import DOMPurify, { type Config } from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import { Marked, type Tokens } from 'marked';

// The languages a small chat model writes most; anything else shows as plain code.
const LANGUAGES = { bash, c, cpp, css, java, javascript, json, python, sql, typescript, xml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

function highlight(code: string, lang: string | undefined): string {
  if (lang && hljs.getLanguage(lang)) return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
  return escapeHtml(code);
}

const marked = new Marked({
  gfm: true,
  renderer: {
    code({ text, lang }: Tokens.Code) {
      const language = lang?.match(/^[\w+#.-]+/)?.[0];
      const body = highlight(text.replace(/\n$/, ''), language);
      return `<pre><code class="hljs${language ? ` language-${language}` : ''}">${body}\n</code></pre>\n`;
    },
    // Raw HTML from the model is shown as the text it is, never interpreted.
    html({ text, block }: Tokens.HTML | Tokens.Tag) {
      return block ? `<p>${escapeHtml(text.trim())}</p>\n` : escapeHtml(text);
    },
    // An image would be a request to wherever the model pointed; offer it as a link instead.
    image({ href, text }: Tokens.Image) {
      return `<a href="${escapeHtml(href)}">Image: ${escapeHtml(text || href)}</a>`;
    },
    // A reply sits under the conversation's h2: its headings start at h3, keeping the page outline.
    heading({ tokens, depth }: Tokens.Heading) {
      const level = Math.min(depth + 2, 6);
      return `<h${level}>${this.parser.parseInline(tokens)}</h${level}>\n`;
    },
    checkbox({ checked }: Tokens.Checkbox) {
      return checked ? '☑ ' : '☐ ';
    },
  },
});

const purify = DOMPurify(window);
// Only what Markdown produces. Everything else goes, with its content kept as text.
const ALLOWED_TAGS = [
  'a', 'b', 'blockquote', 'br', 'code', 'del', 'div', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'kbd',
  'li', 'ol', 'p', 'pre', 's', 'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'th', 'thead', 'tr', 'ul',
];
// Classes only for highlighting: a reply must not borrow the app's own classes to cover the page.
const ALLOWED_CLASS = /^(hljs[\w-]*|language-[\w+#.-]+|[a-z]+_)$/;
purify.addHook('uponSanitizeAttribute', (_node, data) => {
  if (data.attrName === 'class') data.attrValue = data.attrValue.split(/\s+/).filter((name) => ALLOWED_CLASS.test(name)).join(' ');
});
purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});
const SANITIZE = {
  ALLOWED_TAGS,
  ALLOWED_ATTR: ['href', 'title', 'class', 'align', 'start', 'colspan', 'rowspan'],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  // Any other href (javascript:, data:, relative paths) is removed; the link text stays.
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  RETURN_DOM_FRAGMENT: true,
} satisfies Config;

const svg = (className: string, body: string) =>
  `<svg class="${className}" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${body}</svg>`;
const COPY_ICONS =
  svg('icon-copy', '<rect x="9" y="9" width="11" height="11" rx="2"/><path d="M5 15V5a2 2 0 0 1 2-2h10"/>') + svg('icon-done', '<path d="M5 12l5 5L20 7"/>');

/**
 * Gives each code block a bar with its language and a copy button, added after sanitizing, so they
 * are ours. Code and tables scroll sideways on a phone, so they take focus for the arrow keys.
 */
function finish(fragment: DocumentFragment) {
  for (const table of fragment.querySelectorAll('table')) table.tabIndex = 0;
  for (const pre of fragment.querySelectorAll('pre')) {
    pre.tabIndex = 0;
    const lang = pre.querySelector('code')?.className.match(/language-([\w+#.-]+)/)?.[1];
    const block = document.createElement('div');
    block.className = 'code-block';
    const bar = document.createElement('div');
    bar.className = 'code-bar';
    if (lang) {
      const label = document.createElement('span');
      label.className = 'code-lang';
      label.textContent = hljs.getLanguage(lang)?.name ?? lang;
      bar.append(label);
    }
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy-code';
    button.title = 'Copy code';
    button.setAttribute('aria-label', 'Copy code');
    button.innerHTML = COPY_ICONS;
    bar.append(button);
    pre.replaceWith(block);
    block.append(bar, pre);
  }
}

/** Sanitizes HTML to what a reply may show. Exported for tests that bypass the Markdown layer. */
export function sanitize(html: string): string {
  const fragment = purify.sanitize(html, SANITIZE);
  finish(fragment);
  const holder = document.createElement('div');
  holder.append(fragment);
  // No newline after the last block: a reply's text ends where its words do.
  return holder.innerHTML.trimEnd();
}

/** Markdown source to safe HTML, in one go. */
export function renderMarkdown(source: string): string {
  // Without a working sanitizer (a very old browser), nothing the model wrote becomes markup.
  if (!purify.isSupported) return `<p class="plain">${escapeHtml(source)}</p>`;
  return sanitize(marked.parse(source, { async: false }));
}

const FENCE = /^\s*(`{3,}|~{3,})/;
const LIST_ITEM = /^([-*+]|\d{1,9}[.)])(\s|$)/;

/**
 * Where blocks that can no longer change end, scanning from `from` (a block start, outside any code
 * fence). A block is settled when a blank line outside a fence is followed by a complete line that
 * starts a new block: not indented (a continuation) and not a list item (one list, loose or not).
 */
export function settledBlockEnds(text: string, from = 0): number[] {
  const ends: number[] = [];
  let fence: { char: string; length: number } | null = null;
  let afterBlank = false;
  let hasContent = false;
  for (let start = from, end = text.indexOf('\n', start); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
    const line = text.slice(start, end);
    if (fence) {
      const close = line.match(FENCE)?.[1];
      if (close && close[0] === fence.char && close.length >= fence.length && !line.trim().slice(close.length).trim()) fence = null;
      continue;
    }
    if (!line.trim()) {
      afterBlank = hasContent;
      continue;
    }
    if (afterBlank && /^\S/.test(line) && !LIST_ITEM.test(line)) ends.push(start);
    afterBlank = false;
    hasContent = true;
    const open = line.match(FENCE)?.[1];
    if (open) fence = { char: open[0], length: open.length };
  }
  return ends;
}

/**
 * A streamed reply, rendered block by block: settled blocks are parsed once and kept, and only the
 * block still being written is parsed again. Each update costs the length of that last block, not
 * of the whole reply. Any text that does not extend the previous one starts afresh.
 */
export class MarkdownStream {
  #text = '';
  #settled: string[] = [];
  #settledEnd = 0;
  #tail = { source: '', html: '' };
  /** Characters handed to the parser so far; tests use it to prove the work stays linear. */
  parsedChars = 0;

  update(text: string): string[] {
    if (!text.startsWith(this.#text)) {
      this.#settled = [];
      this.#settledEnd = 0;
      this.#tail = { source: '', html: '' };
    }
    this.#text = text;
    for (const end of settledBlockEnds(text, this.#settledEnd)) {
      this.#settled.push(this.#render(text.slice(this.#settledEnd, end)));
      this.#settledEnd = end;
    }
    const tail = text.slice(this.#settledEnd);
    if (tail !== this.#tail.source) this.#tail = { source: tail, html: tail.trim() ? this.#render(tail) : '' };
    return this.#tail.html ? [...this.#settled, this.#tail.html] : [...this.#settled];
  }

  #render(source: string): string {
    this.parsedChars += source.length;
    return renderMarkdown(source);
  }
}
