// npm pack/publish hooks: the packed package.json carries none of this repository's scripts (consumers' npm
// would list `prepare` among install scripts to approve), and the repository's own is restored after.
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = path.join(root, 'package.json');
const saved = path.join(root, '.package.json.before-pack');

const [command] = process.argv.slice(2);
if (command === 'strip') {
  // A pack that died before postpack left the stripped manifest: the saved one is the original.
  if (!existsSync(saved)) copyFileSync(manifest, saved);
  const pkg = JSON.parse(readFileSync(saved, 'utf8'));
  delete pkg.scripts;
  delete pkg.devDependencies;
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
} else if (command === 'restore') {
  if (existsSync(saved)) renameSync(saved, manifest);
} else {
  console.error('usage: node scripts/pack-manifest.mjs strip|restore');
  process.exit(2);
}
