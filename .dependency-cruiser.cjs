// The layering of src/, checked by `npm run lint` (dependency-cruiser): no cycles, and front ends use the backend seam.
/** Front ends: what users call. They reach a backend only through src/backend/ (the seam) and src/pool/. */
const FRONT_ENDS = '^src/(udf|serve|cli|files|types-gen)/';
/** A backend's internals and the machinery below them. */
const BACKEND_INTERNALS = '^src/(local|scheduler|transport)/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle couples two modules into one; break it by moving the shared part down a layer.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'front-ends-use-the-seam',
      comment: 'Front ends depend on the Backend interface (src/backend/) and the Pool, never on a backend\'s internals.',
      severity: 'error',
      from: { path: FRONT_ENDS },
      to: { path: BACKEND_INTERNALS },
    },
    {
      name: 'pool-uses-a-backend-entry',
      comment: 'The pool picks a backend through its entry module (src/local/index.ts), not its internals.',
      severity: 'error',
      from: { path: '^src/pool/' },
      to: { path: ['^src/scheduler/', '^src/transport/', '^src/local/(?!index[.]ts$)'] },
    },
    {
      name: 'scheduler-is-backend-neutral',
      comment: 'The scheduler serves every backend: it knows executors, never processes, sockets or front ends.',
      severity: 'error',
      from: { path: '^src/scheduler/' },
      to: { path: '^src/(local|transport|pool|udf|serve|cli)/' },
    },
    {
      name: 'seam-depends-on-nothing-above-it',
      comment: 'The Backend interface must not depend on any implementation or front end.',
      severity: 'error',
      from: { path: '^src/backend/' },
      to: { path: '^src/(local|scheduler|transport|pool|udf|serve|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
