/**
 * Copies the non-TypeScript files that the code loads at run time (the
 * .proto schemas and their licence, the children's exit-with-parent preload)
 * from src/ to dist/, same layout:
 *   node dist/build/copy-assets.js   (run by `npm run build`, after tsc)
 */
import fs from 'node:fs';
import path from 'node:path';

const ASSET_DIRS = ['messaging/proto', 'savedmodel/proto'];
const ASSET_FILES = ['process/exit-with-parent.cjs'];

function main(): void {
  const dist = path.resolve(__dirname, '..');
  const src = path.resolve(dist, '..', 'src');
  for (const dir of ASSET_DIRS) {
    const from = path.join(src, dir);
    if (!fs.existsSync(from)) throw new Error(`copy-assets: ${from} is missing`);
    fs.rmSync(path.join(dist, dir), { recursive: true, force: true });
    fs.cpSync(from, path.join(dist, dir), { recursive: true });
  }
  for (const file of ASSET_FILES) fs.copyFileSync(path.join(src, file), path.join(dist, file));
  console.log(`copied ${[...ASSET_DIRS, ...ASSET_FILES].join(', ')} to ${path.relative(process.cwd(), dist)}/`);
}

main();
