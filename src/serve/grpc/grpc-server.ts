// GrpcInferenceServer: the KServe v2 / Triton gRPC inference service on its own port, and its graceful close.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ServerClosedError } from '../../errors.js';
import { type GrpcServerOptions, type ResolvedGrpcServerOptions, resolveGrpcServerOptions } from './options.js';
import { inferenceService } from './proto.js';
import { inferenceHandlers } from './service.js';
import { InFlightCalls } from './unary-call.js';

/** After the drain deadline, how long cancelled calls get to send their status before connections are cut. */
const CANCEL_GRACE_MS = 1_000;

type State = 'new' | 'listening' | 'closing';

/**
 * Serves `inference.GRPCInferenceService` (ServerLive, ServerReady, ModelReady, ServerMetadata,
 * ModelMetadata, ModelInfer) for the models of a ServedModels, as Triton's `tritonclient.grpc` and
 * KServe's v2 gRPC clients call it. Nothing listens until `listen()`.
 */
export class GrpcInferenceServer implements AsyncDisposable {
  private readonly options: ResolvedGrpcServerOptions;
  private readonly server: Server;
  private readonly calls = new InFlightCalls();
  private state: State = 'new';
  private binding: Promise<number> | undefined;
  private listening: Promise<number> | undefined;
  private closed: Promise<void> | undefined;
  private bound: number | undefined;

  /** Throws InvalidOptionError naming the option at fault. */
  constructor(options: GrpcServerOptions) {
    this.options = resolveGrpcServerOptions(options);
    const { models, ready, live, maxRequestRows, maxMessageBytes, logger, exposeErrors, onCall } = this.options;
    // A larger message is refused with RESOURCE_EXHAUSTED by grpc-js before it is decoded.
    this.server = new Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': -1 });
    const runtime = { calls: this.calls, closing: () => this.state === 'closing', logger, exposeErrors, onCall };
    this.server.addService(inferenceService(), inferenceHandlers({ models, ready, live, maxRequestRows }, runtime));
  }

  /** The bound port once listening. */
  get port(): number | undefined {
    return this.bound;
  }

  /** Calls whose handlers are still running (a cancelled ModelInfer leaves at once). */
  get inFlight(): number {
    return this.calls.size;
  }

  /**
   * Starts listening on `host:port`; resolves with the bound port (the one picked, for port 0). Rejects if
   * the address cannot be bound; the server is closed then.
   */
  listen(): Promise<number> {
    if (this.state === 'closing') return Promise.reject(new ServerClosedError('the gRPC server is closed; create a new one to listen again'));
    this.listening ??= (this.binding = this.bind()).catch(async (error: unknown) => {
      await this.close();
      throw error;
    });
    return this.listening;
  }

  /**
   * Stops taking calls (new ones get UNAVAILABLE), lets those in flight finish for up to `drainTimeoutMs`,
   * then cancels the rest (UNAVAILABLE) and closes every connection. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async bind(): Promise<number> {
    const { host, port, logger } = this.options;
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.bound = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) => {
        if (error) reject(new Error(`the gRPC server cannot listen on ${address}: ${error.message}`, { cause: error }));
        else resolve(bound);
      });
    });
    // close() may have begun while binding: it stays closing.
    if (this.state === 'new') this.state = 'listening';
    logger(`serving gRPC (inference.GRPCInferenceService) at ${host.includes(':') ? `[${host}]` : host}:${this.bound}`, { level: 'info', source: 'server' });
    return this.bound;
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing';
    await this.binding?.catch(() => undefined);
    // Stops listening and lets each connection close once its calls are done (HTTP/2 GOAWAY).
    const graceful = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    await this.calls.settled(Date.now() + this.options.drainTimeoutMs);
    if (this.calls.size > 0) {
      this.options.logger(`cancelling ${this.calls.size} gRPC calls still running after drainTimeoutMs=${this.options.drainTimeoutMs}`, { level: 'warn', source: 'server' });
      this.calls.abortAll(new ServerClosedError('the server is shutting down'));
      await this.calls.settled(Date.now() + CANCEL_GRACE_MS);
    }
    // Statuses are out; a connection still open after a moment (a client holding a stream) is cut.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([graceful, new Promise((resolve) => { timer = setTimeout(resolve, CANCEL_GRACE_MS); })]);
    clearTimeout(timer);
    this.server.forceShutdown();
    if (this.bound !== undefined) this.options.logger('gRPC server stopped', { level: 'info', source: 'server' });
  }
}
