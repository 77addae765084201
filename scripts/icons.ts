/**
 * Renders the app icons from public/favicon.svg, so the manifest's PNGs never drift from it.
 *   tsx scripts/icons.ts   (the PNGs are committed; run it again after changing the favicon)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';

const favicon = readFileSync('public/favicon.svg', 'utf8');
// Maskable and Apple icons are cropped by the platform, so they must fill the whole square: the
// favicon without its rounded corners. Its glyph already sits inside the maskable safe zone.
const fullBleed = favicon.replace(/ rx="[^"]*"/, '');
if (fullBleed === favicon) throw new Error('public/favicon.svg has no rounded background rect to square off.');

const icons: [file: string, svg: string, size: number][] = [
  ['icon-192.png', favicon, 192],
  ['icon-512.png', favicon, 512],
  ['icon-maskable-512.png', fullBleed, 512],
  ['apple-touch-icon.png', fullBleed, 180],
];

mkdirSync('public/icons', { recursive: true });
for (const [file, svg, size] of icons) {
  await sharp(Buffer.from(svg), { density: (72 * size) / 64 }).resize(size, size).png().toFile(`public/icons/${file}`);
  console.log(`public/icons/${file} (${size}×${size})`);
}
