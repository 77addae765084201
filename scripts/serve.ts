/**
 * Serves the built app, cross-origin isolated, with an optional model folder under /models/:
 * what the end-to-end tests and benchmarks load the generated model from.
 *   tsx scripts/serve.ts [--port 4173] [--models e2e/.model]
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4173' },
    root: { type: 'string', default: 'dist' },
    models: { type: 'string' },
  },
});

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

const mounts: [string, string][] = [['/', resolve(values.root)]];
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
  response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
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
  console.log(`Serving ${values.root}${values.models ? ` and /models/ from ${values.models}` : ''} on http://127.0.0.1:${values.port}/`);
});
