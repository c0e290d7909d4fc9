// Turns SIGINT/SIGTERM into an AbortSignal, so a run stops its workers and exits 130 instead of dying mid-write.
import { AbortError } from '../errors.js';

export interface Interrupt extends Disposable {
  readonly signal: AbortSignal;
}

export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  const stop = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      // A second Ctrl-C means now: the workers die with us (they watch their parent).
      process.exit(130);
    }
    controller.abort(new Error(`interrupted by ${name}`));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

/** `promise`, or an AbortError as soon as `signal` fires (the work itself goes on until the process exits). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortError({ cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError({ cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
