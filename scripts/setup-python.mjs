// Creates the project-local .venv with the worker's and the tests' Python packages (run by `npm install`).
// PYUDF_EXTRAS=torch adds python/requirements-torch.txt (PyTorch pulls ~4 GB of CUDA libraries from PyPI,
// so only CI and those who want the TorchScript loader's tests take it).
// Skips pip when the requirement files have not changed since the last successful run.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execaSync } from 'execa';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const venv = path.join(root, '.venv');
const venvPython = path.join(venv, 'bin', 'python');
const extras = (process.env.PYUDF_EXTRAS ?? '').split(',').map((e) => e.trim()).filter(Boolean);
for (const extra of extras) {
  if (!existsSync(path.join(root, 'python', `requirements-${extra}.txt`))) {
    console.error(`pyudf: PYUDF_EXTRAS names "${extra}", but there is no python/requirements-${extra}.txt (known: torch)`);
    process.exit(1);
  }
}
const requirements = ['requirements.txt', 'requirements-dev.txt', ...extras.map((e) => `requirements-${e}.txt`)].map((f) => path.join(root, 'python', f));
const stamp = path.join(venv, '.pyudf-requirements.sha256');
const bootstrap = process.env.PYUDF_BOOTSTRAP_PYTHON ?? 'python3';

function run(command, args) {
  console.log(`$ ${command} ${args.join(' ')}`);
  execaSync(command, args, { stdio: 'inherit' });
}

const digest = createHash('sha256');
for (const file of requirements) digest.update(readFileSync(file));
const wanted = digest.digest('hex');

if (existsSync(venvPython) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) {
  console.log('pyudf: .venv is up to date');
} else {
  if (!existsSync(venvPython)) run(bootstrap, ['-m', 'venv', venv]);
  // pip keeps its download cache in ~/.cache/pip, so a fresh clone reinstalls without re-downloading.
  run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', ...requirements.slice(1).flatMap((file) => ['-r', file])]);
  writeFileSync(stamp, wanted);
  console.log(`pyudf: .venv ready (${venvPython})`);
}

// Scripts and tests run with this .venv import the worker's package (pyudf.tensors, …) from the checkout,
// as workers do through PYTHONPATH.
const sitePackages = execaSync(venvPython, ['-c', 'import sysconfig; print(sysconfig.get_path("purelib"))']).stdout.trim();
writeFileSync(path.join(sitePackages, 'pyudf-checkout.pth'), `${path.join(root, 'python')}\n`);
