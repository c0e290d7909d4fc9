// One unary RPC from arrival to status: its request id and AbortSignal, its in-flight record, errors as statuses, the onCall event.
import { randomUUID } from 'node:crypto';
import { type handleUnaryCall, status } from '@grpc/grpc-js';
import { ServerClosedError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { describeError } from '../http-errors.js';
import type { GrpcCallEvent } from './options.js';
import { grpcFailure } from './status.js';

/** What a handler gets beside its request. */
export interface CallContext {
  /** Names the call in error statuses and log lines. */
  readonly requestId: string;
  /** Fires when the client cancels the call (or its deadline passes), or when close() stops waiting for it. */
  readonly signal: AbortSignal;
  /** Records the model version that answers (for onCall). */
  readonly answeredBy: (version: string) => void;
}

/** One RPC: its name, the model its request names (for errors and events), and what it answers. */
export interface Rpc<Req, Res> {
  readonly method: string;
  readonly model: (request: Req) => string | null;
  readonly handle: (request: Req, context: CallContext) => Res | Promise<Res>;
}

/** What every call shares with the server. */
export interface CallRuntime {
  readonly calls: InFlightCalls;
  /** True once close() began: new calls get UNAVAILABLE. */
  readonly closing: () => boolean;
  readonly logger: Logger;
  readonly exposeErrors: boolean;
  readonly onCall: ((event: GrpcCallEvent) => void) | undefined;
}

/** The calls whose handlers are still running, each with the controller of its signal. */
export class InFlightCalls {
  private readonly controllers = new Set<AbortController>();

  get size(): number {
    return this.controllers.size;
  }

  add(controller: AbortController): void {
    this.controllers.add(controller);
  }

  delete(controller: AbortController): void {
    this.controllers.delete(controller);
  }

  abortAll(reason: Error): void {
    for (const controller of this.controllers) controller.abort(reason);
  }

  /** Resolves once no call runs, or at `deadline` (a Date.now() time), whichever comes first. */
  async settled(deadline: number): Promise<void> {
    while (this.controllers.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The grpc-js handler of an RPC. Its signal fires when the client cancels, so a ModelInfer whose client
 * gave up frees its rows and its lease at once (grpc-js has already answered the client then, and drops
 * ours). A failure's status comes from errorReply(), and server-side failures are logged, as in REST.
 */
export function unaryCall<Req, Res>(rpc: Rpc<Req, Res>, runtime: CallRuntime): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const time = new Date();
    const started = performance.now();
    const requestId = randomUUID();
    const controller = new AbortController();
    const { signal } = controller;
    let model: string | null = null;
    let version: string | null = null;
    // grpc-js emits 'cancelled' after every status it sends too: the listener goes once the handler is done.
    const onCancelled = (): void => controller.abort();
    call.once('cancelled', onCancelled);
    runtime.calls.add(controller);
    const finish = (code: status): void => {
      call.off('cancelled', onCancelled);
      runtime.calls.delete(controller);
      const event: GrpcCallEvent = {
        time, method: rpc.method, model, version, code: call.cancelled ? status.CANCELLED : code,
        durationMs: performance.now() - started, requestId, peer: call.getPeer(),
      };
      try {
        runtime.onCall?.(event);
      } catch (error) {
        runtime.logger(`onCall threw: ${describeError(error)}`, { level: 'error', source: 'server' });
      }
    };
    const run = async (): Promise<Res> => {
      model = rpc.model(call.request);
      if (runtime.closing()) throw new ServerClosedError('the server is shutting down');
      if (call.cancelled) controller.abort();
      return rpc.handle(call.request, { requestId, signal, answeredBy: (answered) => { version = answered; } });
    };
    run().then((response) => {
      finish(status.OK);
      callback(null, response);
    }, (error: unknown) => {
      // A call cancelled by close()'s deadline is the server's doing: say so, as for any call refused while stopping.
      const cause = signal.aborted && signal.reason instanceof ServerClosedError ? signal.reason : error;
      const { error: failure, reply } = grpcFailure(cause, model ?? '', requestId, runtime.exposeErrors);
      if (reply.log) runtime.logger(describeError(error), { level: 'error', source: 'server', requestId });
      finish(failure.code);
      callback(failure);
    });
  };
}
