import type * as MarkdownModule from './markdown';

/**
 * The Markdown renderer (marked, DOMPurify, highlight.js) is a chunk of its own, fetched as soon as
 * the app starts but off the path of its first paint. Until it arrives, replies show as plain text.
 */
let loaded = $state.raw<typeof MarkdownModule | null>(null);

import('./markdown').then(
  (module) => (loaded = module),
  (error: Error) => console.error('The Markdown renderer did not load; replies stay plain text.', error),
);

export const markdown = {
  get module() {
    return loaded;
  },
};
