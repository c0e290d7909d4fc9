// Which table format a path means: from --input-format/--output-format, else its extension; `-` is Arrow IPC.
import { InvalidOptionError } from '../errors.js';

/** `arrow` is the Arrow IPC file format (Feather v2), `arrow-stream` the IPC stream format. */
export type TableFormat = 'parquet' | 'csv' | 'arrow' | 'arrow-stream';

export const TABLE_FORMATS: readonly TableFormat[] = ['parquet', 'csv', 'arrow', 'arrow-stream'];

/** The path that means stdin (for input) or stdout (for output). */
export const STDIO = '-';

const EXTENSIONS: Readonly<Record<string, TableFormat>> = {
  '.parquet': 'parquet', '.pq': 'parquet',
  '.csv': 'csv',
  '.arrow': 'arrow', '.feather': 'arrow', '.ipc': 'arrow',
  '.arrows': 'arrow-stream',
};

/**
 * The format to read or write `file` in. An explicit format wins; `-` defaults to the Arrow IPC
 * stream format (the only Arrow format a pipe can carry). On input, `arrow` and `arrow-stream` are
 * told apart by the file's magic bytes, so either name reads both.
 */
export function formatOf(file: string, explicit: string | undefined, option: string): TableFormat {
  if (explicit !== undefined) {
    if (!(TABLE_FORMATS as readonly string[]).includes(explicit)) {
      throw new InvalidOptionError(option, `unknown format "${explicit}"; use one of ${TABLE_FORMATS.join(', ')}`);
    }
    return explicit as TableFormat;
  }
  if (file === STDIO) return 'arrow-stream';
  const dot = file.lastIndexOf('.');
  const extension = dot >= 0 ? file.slice(dot).toLowerCase() : '';
  const format = EXTENSIONS[extension];
  if (!format) {
    const known = Object.keys(EXTENSIONS).join(', ');
    throw new InvalidOptionError(option, `cannot tell the format of "${file}" from its extension (known: ${known}); pass ${option} ${TABLE_FORMATS.join('|')}`);
  }
  return format;
}
