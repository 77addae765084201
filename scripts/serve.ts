/**
 * Serves the built app, cross-origin isolated, with an optional model folder under /models/:
 * what the end-to-end tests and benchmarks load the generated model from.
 *   tsx scripts/serve.ts [--port 4173] [--models e2e/.model] [--base /phi-chat/] [--no-isolation]
 * `--base` serves the app from a sub-path and `--no-isolation` leaves out the COOP/COEP headers:
 * together they stand in for GitHub Pages, where the service worker has to isolate the page.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ISOLATION_HEADERS } from '../src/lib/isolation';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4173' },
    root: { type: 'string', default: 'dist' },
    models: { type: 'string' },
    base: { type: 'string', default: '/' },
    'no-isolation': { type: 'boolean', default: false },
  },
});
const base = values.base.endsWith('/') ? values.base : `${values.base}/`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
};

const mounts: [string, string][] = [[base, resolve(values.root)]];
if (values.models) mounts.unshift(['/models/', resolve(values.models)]);

function locate(pathname: string): string | null {
  for (const [prefix, dir] of mounts) {
    if (!pathname.startsWith(prefix)) continue;
    const file = normalize(join(dir, decodeURIComponent(pathname.slice(prefix.length))));
    if (!file.startsWith(dir)) return null;
    try {
      const stat = statSync(file);
      if (stat.isFile()) return file;
      if (stat.isDirectory() && statSync(join(file, 'index.html')).isFile()) return join(file, 'index.html');
    } catch {
      return null;
    }
  }
  return null;
}

createServer((request, response) => {
  const { pathname } = new URL(request.url ?? '/', 'http://localhost');
  if (`${pathname}/` === base) {
    response.writeHead(301, { Location: base }).end();
    return;
  }
  if (!values['no-isolation']) {
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) response.setHeader(name, value);
    response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  }
  const file = locate(pathname);
  if (!file) {
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
    return;
  }
  response.writeHead(200, {
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': statSync(file).size,
    'Cache-Control': 'no-cache',
  });
  createReadStream(file).pipe(response);
}).listen(Number(values.port), '127.0.0.1', () => {
  const isolation = values['no-isolation'] ? ', without isolation headers' : '';
  console.log(`Serving ${values.root} at ${base}${values.models ? ` and /models/ from ${values.models}` : ''} on http://127.0.0.1:${values.port}/${isolation}`);
});
