// SIGTERM/SIGINT → a graceful close(): what a server run as a process (the CLI, a container) needs.
import { type ServeLogger, defaultServeLogger } from './options.js';

export interface SignalHandlerOptions {
  /** Signals that start a graceful close. Default ['SIGTERM', 'SIGINT']. */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * Exit the process once closed (code 0, or 1 if closing failed), and at once on a second signal.
   * Default true: a handled SIGTERM no longer ends the process by itself, so without this anything else
   * holding the event loop open would keep it running.
   */
  readonly exit?: boolean;
  /** Default: the same stderr logger as createServer()'s. */
  readonly logger?: ServeLogger;
}

/**
 * On the first of `signals`, calls `server.close()`: in-flight requests finish, then the workers stop.
 * Returns a function that removes the handlers.
 */
export function installSignalHandlers(server: { close(): Promise<void> }, options: SignalHandlerOptions = {}): () => void {
  const { signals = ['SIGTERM', 'SIGINT'], exit = true, logger = defaultServeLogger } = options;
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      logger(`${signal} again: exiting without waiting`, { level: 'warn', source: 'server' });
      if (exit) process.exit(1);
      return;
    }
    closing = true;
    logger(`${signal}: finishing in-flight requests, then stopping the workers`, { level: 'info', source: 'server' });
    server.close().then(
      () => { if (exit) process.exit(0); },
      (error: unknown) => {
        logger(`closing failed: ${String(error)}`, { level: 'error', source: 'server' });
        if (exit) process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
