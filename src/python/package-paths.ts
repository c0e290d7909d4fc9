// Where the Python half of pyudf lives inside the installed npm package.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `<package>/python`: prepended to PYTHONPATH so `python -m pyudf.worker` finds the shipped worker. */
export const PYTHON_PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'python');
export const REQUIREMENTS_FILE = path.join(PYTHON_PACKAGE_ROOT, 'requirements.txt');

export function installCommand(python: string): string {
  return `${python} -m pip install -r ${REQUIREMENTS_FILE}`;
}
