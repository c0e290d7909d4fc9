// The flags --keep a,b (repeatable) and --keep-all of `pyudf apply`, parsed without loading apache-arrow.
import { InvalidArgumentError } from 'commander';
import { InvalidOptionError } from '../errors.js';

/** Which input columns to carry: the ones named (in that order), or every one (in the input's order). */
export type KeepSpec = { readonly all: true } | { readonly all: false; readonly names: readonly string[] };

/** What commander collects from repeated `--keep a,b --keep c`: the names, in order. */
export function parseKeep(text: string, previous: readonly string[] = []): string[] {
  const names = text.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) {
    throw new InvalidArgumentError(`expected column names separated by commas, got "${text}"`);
  }
  return [...previous, ...names];
}

/** The spec from the flags, or undefined when nothing is kept. */
export function keepSpec(flags: { readonly keep?: readonly string[]; readonly keepAll?: boolean }): KeepSpec | undefined {
  if (flags.keepAll && flags.keep?.length) throw new InvalidOptionError('--keep-all', 'give --keep or --keep-all, not both');
  if (flags.keepAll) return { all: true };
  if (!flags.keep?.length) return undefined;
  const twice = flags.keep.find((name, i) => flags.keep!.indexOf(name) !== i);
  if (twice !== undefined) throw new InvalidOptionError('--keep', `names column "${twice}" twice`);
  return { all: false, names: flags.keep };
}
