// Progress on stderr: a cli-progress bar (rows, rows/s, ETA) on a terminal, a plain line a second otherwise.
import cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** Draw a bar (a terminal) or print lines (a log, a pipe). Default: whether stderr is a TTY. */
  readonly tty?: boolean;
  /** Where to write. Default: process.stderr. */
  readonly stream?: NodeJS.WriteStream;
  /** Milliseconds between plain lines. Default 1000. */
  readonly intervalMs?: number;
  /** Share of the input consumed (0 to 1), when known: gives the percentage and ETA. */
  readonly fraction: () => number | undefined;
  /** Rows in the whole input, when its metadata says (Parquet). */
  readonly totalRows?: number | undefined;
}

export interface Progress {
  /** Counts rows that have been written. */
  add(rows: number): void;
  /** Stops the bar or the lines and prints the summary. */
  stop(summary?: string): void;
}

export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean(stream.isTTY);
  const started = Date.now();
  let rows = 0;
  const stats = (): { rate: number; eta: number | undefined; fraction: number | undefined } => {
    const seconds = Math.max((Date.now() - started) / 1000, 1e-3);
    const fraction = options.fraction();
    const eta = fraction && fraction < 1 ? (seconds * (1 - fraction)) / fraction : fraction === 1 ? 0 : undefined;
    return { rate: rows / seconds, eta, fraction };
  };

  if (!tty) {
    const timer = setInterval(() => {
      const { rate, eta, fraction } = stats();
      const known = fraction === undefined ? '' : `, ${Math.floor(fraction * 100)}%, ETA ${duration(eta)}`;
      stream.write(`pyudf: ${rows} rows, ${Math.round(rate)} rows/s${known}\n`);
    }, options.intervalMs ?? 1000);
    timer.unref();
    return {
      add: (n) => { rows += n; },
      stop: (summary) => {
        clearInterval(timer);
        if (summary) stream.write(`${summary}\n`);
      },
    };
  }

  const bar = new cliProgress.SingleBar({
    stream,
    format: '{bar} {percent} {value} rows | {rate} rows/s | ETA {etaText}',
    hideCursor: true,
    clearOnComplete: true,
    fps: 5,
  }, cliProgress.Presets.shades_classic);
  bar.start(1, 0, { percent: '', rate: 0, etaText: '?' });
  return {
    add: (n) => {
      rows += n;
      const { rate, eta, fraction } = stats();
      // The total is estimated from the share consumed: exact for Parquet, by bytes for CSV and streams.
      const estimate = fraction ? Math.round(rows / fraction) : rows + 1;
      const total = Math.max(rows, options.totalRows ?? estimate);
      bar.setTotal(total);
      bar.update(rows, { percent: fraction === undefined ? '' : `${Math.floor(fraction * 100)}% |`, rate: Math.round(rate), etaText: duration(eta) });
    },
    stop: (summary) => {
      bar.stop();
      if (summary) stream.write(`${summary}\n`);
    },
  };
}

export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
