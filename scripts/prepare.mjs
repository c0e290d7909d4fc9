// `npm install` in this repository: the TypeScript build, then the project's Python .venv (scripts/setup-python.mjs).
// PYUDF_SKIP_PREPARE=1 skips both, for a pack that must not rebuild dist/ under running tests.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execaSync } from 'execa';

if (process.env.PYUDF_SKIP_PREPARE === '1') process.exit(0);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
execaSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
execaSync('node', [path.join(root, 'scripts', 'setup-python.mjs')], { cwd: root, stdio: 'inherit' });
