// The one logger interface of pyudf: every line says its level and its source (pool, server, a worker).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Which output stream of a worker a forwarded line came from. */
export type LogStream = 'stdout' | 'stderr';

/**
 * `source` is `'pool'`, `'server'`, or a worker's id (`'w0'`, `'w1'`, …) for the lines a worker
 * prints; those also carry `stream`. A server's lines about one request carry its `requestId`.
 */
export interface LogMeta {
  readonly level: LogLevel;
  readonly source: string;
  readonly stream?: LogStream;
  readonly requestId?: string;
}

/** Receives pyudf's diagnostics and the lines its workers print. */
export type Logger = (message: string, meta: LogMeta) => void;

/** Writes each line to stderr: `[pyudf w0] …` for a worker's own lines, `[pyudf pool] warn: …` otherwise. */
export const defaultLogger: Logger = (message, { level, source, stream, requestId }) => {
  const label = stream === undefined && level !== 'info' ? `${level}: ` : '';
  process.stderr.write(`[pyudf ${source}]${requestId ? ` ${requestId}` : ''} ${label}${message}\n`);
};

/** A logger that discards everything. */
export const silentLogger: Logger = () => undefined;
