// The lint step that guards src/'s layering: it passes on src/ and fails on a cycle or a front end using a backend's internals.
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT } from './helpers.js';

const cruise = (cwd: string) => execa(path.join(ROOT, 'node_modules', '.bin', 'depcruise'), [
  '--config', path.join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err', 'src',
], { cwd, reject: false });

describe('layering', () => {
  it('finds no cycle and no front end importing a backend\'s internals in src/', async () => {
    const result = await cruise(ROOT);
    expect(result.stdout + result.stderr).toMatch(/no dependency violations found/);
    expect(result.exitCode).toBe(0);
  });

  it('fails on an import cycle and on a front end importing a backend\'s internals', async () => {
    const result = await cruise(path.join(FIXTURES, 'layering'));
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toMatch(/no-cycles: src\/serve\/(server|metrics)\.ts/);
    expect(result.stdout).toMatch(/front-ends-use-the-seam: src\/udf\/udf\.ts → src\/local\/worker-process\.ts/);
  });
});
