#!/usr/bin/env node
// The `pyudf` binary (package.json "bin"): runs the CLI and exits with its code.
import { EXIT } from './exit-codes.js';
import { main } from './program.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// An interrupted run has stopped its workers; this ends whatever else still waits (a read of a stalled stdin).
if (code === EXIT.INTERRUPTED) process.exit(code);
