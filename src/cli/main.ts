#!/usr/bin/env node
// The `pyudf` binary (package.json "bin"): runs the CLI and exits with its code.
import { EXIT } from './exit-codes.js';
import { main } from './program.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Interrupted work may still be computing in the workers; they exit with this process.
if (code === EXIT.INTERRUPTED) process.exit(code);
