// Turns SIGINT/SIGTERM into an AbortSignal, so a run stops its workers and exits 130 instead of dying mid-write.
import { AbortError } from '../errors.js';

export interface Interrupt extends Disposable {
  readonly signal: AbortSignal;
  /**
   * Runs `action` (synchronously) if a second SIGINT/SIGTERM makes the process exit at once, e.g. to
   * kill processes it would otherwise wait for; returns a function that removes it.
   */
  onForcedExit(action: () => void): () => void;
}

export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  const forced = new Set<() => void>();
  const stop = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      // A second Ctrl-C means now: whatever the first one is still stopping is killed, not waited for.
      for (const action of forced) {
        try {
          action();
        } catch { /* exiting regardless */ }
      }
      process.stderr.write(`pyudf: ${name} again: exiting now\n`);
      process.exit(130);
    }
    controller.abort(new Error(`interrupted by ${name}`));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal: controller.signal,
    onForcedExit(action) {
      forced.add(action);
      return () => forced.delete(action);
    },
    [Symbol.dispose]() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

/** `promise`, or an AbortError as soon as `signal` fires (the work itself goes on until the process exits). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined); // nobody waits for it any more
    return Promise.reject(new AbortError({ cause: signal.reason }));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError({ cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Iterates `source`, but a `next()` still waiting when `signal` fires rejects with AbortError at once:
 * a stalled input (a pipe whose writer stopped) cannot hold an interrupted run.
 */
export function abortableIterable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const iterable: AsyncIterableIterator<T> = {
    next: () => abortable(iterator.next(), signal),
    async return(value?: unknown) {
      const closing = iterator.return?.(value);
      if (closing) {
        // An aborted source may still be inside next() (waiting for input), and its return() waits for that.
        if (signal.aborted) closing.catch(() => undefined);
        else await closing;
      }
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterable,
  };
  return iterable;
}

/** Resolves true once `promise` settles, or false after `ms` (its outcome is then ignored). */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, ms));
    promise.then(() => true, () => true).then((settled) => {
      clearTimeout(timer);
      resolve(settled);
    });
  });
}
