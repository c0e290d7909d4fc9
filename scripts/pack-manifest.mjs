// npm pack/publish hooks: the packed package.json carries none of this repository's scripts (consumers' npm
// would list `prepare` among install scripts to approve), and the repository's own is restored after.
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execaSync } from 'execa';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = path.join(root, 'package.json');
const saved = path.join(root, '.package.json.before-pack');

const [command] = process.argv.slice(2);
if (command === 'strip') {
  // npm packs the manifest as it is after this hook, and runs no `prepare` from a manifest without
  // scripts: the build happens here (PYUDF_SKIP_PREPARE=1 skips it, for a pack of what is built).
  if (process.env.PYUDF_SKIP_PREPARE !== '1') execaSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  // A pack that died before postpack left the stripped manifest (no scripts): the saved one is the
  // original then. A manifest with scripts is the current one, whatever was saved before.
  const current = JSON.parse(readFileSync(manifest, 'utf8'));
  if (current.scripts || !existsSync(saved)) copyFileSync(manifest, saved);
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
