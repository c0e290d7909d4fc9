// The HTTP server: listens, loads the model or repository, answers Open Inference Protocol requests, and drains on close().
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServerClosedError } from '../errors.js';
import type { BackendStats } from '../backend/backend.js';
import { type Pool, createPool } from '../pool/pool.js';
import { readBody } from './body.js';
import { HEADER_LENGTH } from './infer-body.js';
import { RequestError, describeError, errorReply } from './http-errors.js';
import { infer, inferProtocol } from './infer.js';
import { type ModelMetadata, modelMetadata, serverMetadata } from './metadata.js';
import { ServeMetrics } from './metrics.js';
import { type RequestEvent, type ResolvedServeOptions, type ServableUdf, type ServeOptions, resolveServeOptions } from './options.js';
import { type Reply, errorJson, jsonReply, sendReply } from './reply.js';
import type { GrpcInferenceServer } from './grpc/grpc-server.js';
import { ModelRepository } from './repository/model-repository.js';
import { isServedPath, MethodNotAllowed, modelInPath, type Route, matchRoute } from './router.js';
import { type IndexEntry, type Lease, ServedModels } from './served-models.js';

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  /** Base URL for clients, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
}

type State = 'new' | 'loading' | 'serving' | 'closing';

/** A Node request handler, as Express's `app.use()`, @fastify/middie's `fastify.use()` and `http.createServer()` take. */
export type RequestHandler = (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void) => void;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** After the drain deadline, how long cancelled requests get to write their 503 before connections close. */
const CANCEL_GRACE_MS = 1_000;

/**
 * Creates (does not start) a server for one model or a model repository; `listen()` starts it. Nothing
 * runs, and no worker starts, until then.
 */
export function createServer(options: ServeOptions): ModelServer {
  return new ModelServer(resolveServeOptions(options));
}

/** The version a model given as `model` or `udf` (not from a repository) is served as. */
const SINGLE_VERSION = '1';

/**
 * Serves one UDF, or every model of a repository, over the Open Inference Protocol (KServe v2 REST, and
 * gRPC with `grpcPort`). Create it with `createServer()`.
 */
export class ModelServer implements AsyncDisposable {
  /** The one model's name in URLs; undefined for a repository server. */
  readonly modelName: string | undefined;
  /** The models served, by name and version. */
  private readonly models: ServedModels;
  private readonly http: Server;
  private readonly metrics: ServeMetrics;
  private readonly inFlight = new Map<ServerResponse, AbortController>();
  private readonly repository: ModelRepository | undefined;
  private grpc: GrpcInferenceServer | undefined;
  /** Stops each served version's batch metrics, by `model/version`. */
  private readonly unobserve = new Map<string, () => void>();
  private state: State = 'new';
  private pool: Pool<BackendStats> | undefined;
  private creatingPool: Promise<Pool<BackendStats>> | undefined;
  private udf: ServableUdf | undefined;
  private declared: ModelMetadata | undefined;
  private address: ServerAddress | undefined;
  private listening: Promise<ServerAddress> | undefined;
  private loadingModel: Promise<void> | undefined;
  private loading: Promise<unknown> = Promise.resolve();
  private closed: Promise<void> | undefined;

  /** @internal use createServer() */
  constructor(private readonly options: ResolvedServeOptions) {
    this.modelName = options.modelName;
    this.pool = options.pool;
    this.models = new ServedModels((model, udf) => this.describe(model, udf.inputSchema, udf.outputSchema));
    if (this.modelName !== undefined) {
      const declared = options.udf ?? { inputSchema: options.model?.input, outputSchema: options.model?.output };
      this.declared = this.describe(this.modelName, declared.inputSchema, declared.outputSchema);
    }
    if (options.repository) {
      this.repository = new ModelRepository(options.repository, {
        pool: () => this.ensurePool(), models: this.models, logger: options.logger,
        published: (model, version, udf) => this.observe(model, version, udf),
        retired: (model, version) => this.stopObserving(model, version),
      });
    }
    this.metrics = new ServeMetrics({ stats: () => this.pool?.stats(), versions: () => this.models.index() });
    this.http = createHttpServer((request, response) => this.handler(request, response));
  }

  /** Starts the gRPC service beside the HTTP one; grpc-js is loaded only for a server that asks for it. */
  private async listenGrpc(port: number): Promise<void> {
    const [{ GrpcInferenceServer }, { status: grpcStatus }] = await Promise.all([import('./grpc/grpc-server.js'), import('@grpc/grpc-js')]);
    // close() while grpc-js loaded: nothing may bind after it.
    if (this.state === 'closing') throw new ServerClosedError('the server was closed while gRPC was starting');
    const { options } = this;
    this.grpc = new GrpcInferenceServer({
      models: this.models, port, host: options.host, ready: () => this.ready, live: () => this.state !== 'closing',
      logger: options.logger, maxRequestRows: options.maxRequestRows, maxMessageBytes: options.maxBodyBytes,
      exposeErrors: options.exposeErrors, drainTimeoutMs: options.drainTimeoutMs,
      onCall: (event) => {
        if (event.method !== 'ModelInfer' || event.model === null) return;
        const labels = { model: event.model, version: event.version ?? '', protocol: 'grpc' as const };
        this.metrics.recordRequest(labels, grpcStatus[event.code] ?? String(event.code), event.durationMs);
      },
    });
    await this.grpc.listen();
  }

  /**
   * Every version served and its state (READY, LOADING, UNLOADING, UNAVAILABLE with the reason), as
   * `POST /v2/repository/index` lists them for a repository.
   */
  index(): IndexEntry[] {
    return this.repository?.index() ?? this.models.index();
  }

  /** Requests running on a model version now (each holds a lease on it until its answer is written). */
  get activeRequests(): number {
    return this.models.activeLeases;
  }

  /** The gRPC port once listening (with `grpcPort`), e.g. the one picked for 0. */
  get grpcPort(): number | undefined {
    return this.grpc?.port;
  }

  /**
   * The Open Inference Protocol routes (and /metrics) as a Node request handler, to mount in another
   * server: `app.use('/oip', server.handler)` in Express, `fastify.use('/oip', server.handler)` with
   * @fastify/middie, or `http.createServer(server.handler)`. Paths it does not serve (another model's
   * included, so that several can be mounted side by side) go to `next` when given, else get a 404. Mount it before any body parser (it reads the raw body), and call `load()`
   * (or `listen()`) first; until then requests get 503.
   */
  readonly handler: RequestHandler = (request, response, next) => {
    const pathname = (request.url ?? '/').split('?')[0]!;
    // Another model's paths are for another handler mounted beside this one (a repository serves them all).
    const otherModel = this.modelName !== undefined && modelInPath(pathname) !== null && modelInPath(pathname) !== this.modelName;
    if (next && (otherModel || !isServedPath(pathname))) {
      next();
      return;
    }
    this.onRequest(request, response).catch((error: unknown) => {
      this.options.logger(`answering ${request.method} ${request.url} failed: ${describeError(error)}`, { level: 'error', source: 'server' });
      response.destroy();
    });
  };

  /** The base URL once listening, e.g. `http://127.0.0.1:8000`. */
  get url(): string | undefined {
    return this.address?.url;
  }

  /**
   * True while serving with every model's served version initialised on at least one worker
   * (GET /v2/health/ready).
   */
  get ready(): boolean {
    if (this.state !== 'serving') return false;
    if (this.modelName !== undefined) return this.udf?.ready === true;
    return this.models.names().every((name) => this.models.versions(name).every((v) => v.state !== 'READY' || this.models.ready(name, v.version)));
  }

  /**
   * Starts listening, then creates the pool (unless one was given) and registers the model. Clients can
   * reach the health endpoints while the model loads (live, not ready). Rejects if the port is taken or
   * the model fails to load; the server is closed then.
   */
  listen(): Promise<ServerAddress> {
    if (this.state === 'closing') return Promise.reject(new ServerClosedError('the server is closed; create a new one to listen again'));
    if (this.state === 'new') this.state = 'loading';
    this.listening ??= this.startOrClose();
    return this.listening;
  }

  /**
   * Loads the model (creating the pool unless one was given) without listening: for `handler` mounted in
   * another server. Rejects if the model fails to load; the server is closed then.
   */
  load(): Promise<void> {
    if (this.state === 'closing') return Promise.reject(new ServerClosedError('the server is closed; create a new one to load the model again'));
    this.loadingModel ??= this.loadOrClose();
    return this.loadingModel;
  }

  /**
   * Stops accepting requests, waits up to `drainTimeoutMs` for those in flight, then closes the
   * connections and the UDF and pool the server created. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async startOrClose(): Promise<ServerAddress> {
    const start = this.start();
    try {
      return await start;
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  private async loadOrClose(): Promise<void> {
    this.state = 'loading';
    const load = this.loadModel();
    this.loading = load.catch(() => undefined);
    try {
      await load;
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  private async start(): Promise<ServerAddress> {
    const { host, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const bound = (this.http.address() as AddressInfo).port;
    const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    this.address = { host, port: bound, url: `http://${urlHost}:${bound}` };
    if (this.options.grpcPort !== undefined) await this.listenGrpc(this.options.grpcPort);
    await this.load();
    const where = this.modelName !== undefined ? `model "${this.modelName}" at ${this.address.url}/v2/models/${this.modelName}`
      : `${this.models.names().length} models of ${this.repository!.root} at ${this.address.url}/v2/models/{name}`;
    this.options.logger(`serving ${where}`, { level: 'info', source: 'server' });
    return this.address;
  }

  private async loadModel(): Promise<void> {
    if (this.repository) {
      await this.repository.loadAll();
      if (this.state === 'closing') throw new ServerClosedError('the server was closed while the repository was loading');
      this.repository.watch();
      this.state = 'serving';
      return;
    }
    // Listed as loading meanwhile, so that requests get 503 (gRPC UNAVAILABLE), not "no such model".
    this.models.loading(this.modelName!, SINGLE_VERSION);
    const udf = this.options.udf ?? await this.register();
    if (this.state === 'closing') {
      if (!this.options.udf) await udf.close();
      throw new ServerClosedError('the server was closed while the model was loading');
    }
    this.udf = udf;
    this.models.publish(this.modelName!, SINGLE_VERSION, udf);
    this.observe(this.modelName!, SINGLE_VERSION, udf);
    this.state = 'serving';
  }

  private ensurePool(): Promise<Pool<BackendStats>> {
    if (this.pool) return Promise.resolve(this.pool);
    this.creatingPool ??= createPool(this.options.poolOptions).then((pool) => (this.pool = pool));
    return this.creatingPool;
  }

  private async register(): Promise<ServableUdf> {
    const pool = await this.ensurePool();
    return pool.register({ ...this.options.model, name: this.modelName! });
  }

  private observe(model: string, version: string, udf: ServableUdf): void {
    this.unobserve.set(`${model}/${version}`, this.metrics.observe(model, version, udf));
  }

  private stopObserving(model: string, version: string): void {
    this.unobserve.get(`${model}/${version}`)?.();
    this.unobserve.delete(`${model}/${version}`);
  }

  private describe(model: string, input: ServableUdf['inputSchema'], output: ServableUdf['outputSchema']): ModelMetadata {
    const { metadata, skipped } = modelMetadata(model, input, output);
    for (const field of skipped) this.options.logger(`model "${model}" metadata leaves out ${field}`, { level: 'warn', source: 'server' });
    return metadata;
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing';
    const httpClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    const grpcClosed = this.grpc?.close();
    await this.drain();
    await grpcClosed;
    this.http.closeAllConnections();
    if (this.address) await httpClosed;
    // A version still loading gets the drain's time too; past it, closing the pool fails its register().
    const repositoryClosed = this.repository?.close();
    await Promise.race([this.loading.then(() => repositoryClosed), delay(this.options.drainTimeoutMs)]);
    for (const stop of this.unobserve.values()) stop();
    // What the server created it closes; a UDF or pool given to it stays open for its owner.
    if (this.udf && !this.options.udf) await this.udf.close();
    await this.creatingPool?.catch(() => undefined);
    if (this.pool && !this.options.pool) await this.pool.close();
    if (this.address) this.options.logger('stopped', { level: 'info', source: 'server' });
  }

  /**
   * Waits for in-flight requests; past the deadline, cancels their model calls (they get 503) and gives
   * those replies a moment to go out. Connections still open after that (a client that never finishes
   * sending its body) are closed by the caller.
   */
  private async drain(): Promise<void> {
    await this.settled(Date.now() + this.options.drainTimeoutMs);
    if (this.inFlight.size === 0) return;
    this.options.logger(`cancelling ${this.inFlight.size} requests still running after drainTimeoutMs=${this.options.drainTimeoutMs}`, { level: 'warn', source: 'server' });
    for (const controller of this.inFlight.values()) controller.abort(new ServerClosedError('the server is shutting down'));
    await this.settled(Date.now() + CANCEL_GRACE_MS);
  }

  private async settled(deadline: number): Promise<void> {
    while (this.inFlight.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  // ---- requests ------------------------------------------------------------------------------

  private async onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const controller = new AbortController();
    const time = new Date();
    const started = performance.now();
    const pathname = (request.url ?? '/').split('?')[0]!;
    let bytes = 0;
    this.inFlight.set(response, controller);
    response.once('close', () => {
      this.inFlight.delete(response);
      // The client left before the reply: its model call is no longer wanted.
      if (!response.writableFinished) controller.abort();
      this.reportRequest({
        time, method: request.method ?? '?', url: request.url ?? '/', httpVersion: request.httpVersion,
        remoteAddress: request.socket.remoteAddress, status: response.statusCode, bytes, durationMs: performance.now() - started,
        model: modelInPath(pathname), requestId, aborted: !response.writableFinished,
      });
    });
    let reply: Reply;
    try {
      reply = await this.route(request, matchRoute(request.method, pathname), controller.signal, requestId);
    } catch (error) {
      reply = this.failure(error, requestId, controller.signal);
    }
    bytes = sendReply(response, reply, { 'x-request-id': requestId, ...(this.state === 'closing' ? { connection: 'close' } : {}) });
  }

  private reportRequest(event: RequestEvent): void {
    try {
      this.options.onRequest?.(event);
    } catch (error) {
      this.options.logger(`onRequest threw: ${describeError(error)}`, { level: 'error', source: 'server' });
    }
  }

  private async route(request: IncomingMessage, route: Route, signal: AbortSignal, requestId: string): Promise<Reply> {
    if (this.state === 'closing') return errorJson(503, 'the server is shutting down');
    switch (route.name) {
      case 'live': return jsonReply(200, { live: true });
      case 'ready': return jsonReply(this.ready ? 200 : 503, { ready: this.ready });
      case 'server': return jsonReply(200, serverMetadata());
      case 'metrics': return { status: 200, headers: { 'content-type': this.metrics.contentType }, chunks: [Buffer.from(await this.metrics.scrape())] };
      case 'modelReady': {
        // An unknown model or version is a 404, as for its metadata.
        this.modelDocument(route.model, route.version);
        const ready = this.state === 'serving' && this.models.ready(route.model, route.version);
        return jsonReply(ready ? 200 : 503, { name: route.model, ...(route.version === undefined ? {} : { version: route.version }), ready });
      }
      case 'model': return jsonReply(200, this.modelDocument(route.model, route.version));
      case 'infer': return this.infer(request, route.model, route.version, signal, requestId);
      case 'index': return jsonReply(200, this.requireRepository().index());
      case 'load':
        await this.requireRepository().load(route.model);
        return jsonReply(200, {});
      case 'unload':
        await this.requireRepository().unload(route.model);
        return jsonReply(200, {});
    }
  }

  /** Model metadata; before the one model of a single-model server is loaded, what its declared schemas say. */
  private modelDocument(model: string, version: string | undefined): ModelMetadata {
    if (!this.loaded(model) && model === this.modelName && this.declared && (version === undefined || version === SINGLE_VERSION)) {
      return { ...this.declared, versions: [] } as ModelMetadata;
    }
    return this.models.metadata(model, version);
  }

  /** Whether some version of the model is loaded (READY), whatever its workers are doing. */
  private loaded(model: string): boolean {
    return this.models.versions(model).some((v) => v.state === 'READY');
  }

  private requireRepository(): ModelRepository {
    if (!this.repository) throw new RequestError(400, 'this server serves one model, not a model repository: the repository endpoints need createServer({ repository }) or pyudf serve --repository');
    return this.repository;
  }

  private async infer(request: IncomingMessage, model: string, version: string | undefined, signal: AbortSignal, requestId: string): Promise<Reply> {
    const contentType = request.headers['content-type'];
    const headerLength = request.headers[HEADER_LENGTH] as string | undefined;
    const protocol = inferProtocol(contentType, headerLength);
    let lease: Lease;
    try {
      lease = this.acquire(model, version);
    } catch (error) {
      const reply = this.failure(error, requestId, signal, model);
      this.metrics.startRequest({ model, version: version ?? '', protocol })(reply.status);
      return reply;
    }
    const done = this.metrics.startRequest({ model, version: lease.version, protocol });
    let reply: Reply;
    try {
      const body = await readBody(request, this.options.maxBodyBytes);
      reply = await infer({ udf: lease.udf, model, version: lease.version, body, contentType, headerLength, signal, maxRows: this.options.maxRequestRows });
    } catch (error) {
      reply = this.failure(error, requestId, signal, model);
    } finally {
      lease.release();
    }
    done(reply.status);
    return reply;
  }

  /** A lease on the version to run a request on; 503 while the one model of a single-model server loads. */
  private acquire(model: string, version: string | undefined): Lease {
    if (this.modelName !== undefined && model === this.modelName && !this.loaded(model)) {
      throw new RequestError(503, `model "${model}" is still loading`);
    }
    return this.models.acquire(model, version);
  }

  private failure(error: unknown, requestId: string, signal: AbortSignal, model = this.modelName ?? ''): Reply {
    // A call cancelled by the drain deadline is the server's doing: say so, as for any request refused while stopping.
    const cause = signal.aborted && signal.reason instanceof ServerClosedError ? signal.reason : error;
    const { status, message, log } = errorReply(cause, model, requestId, this.options.exposeErrors);
    if (log) this.options.logger(describeError(error), { level: 'error', source: 'server', requestId });
    const reply = errorJson(status, message);
    if (error instanceof MethodNotAllowed) return { ...reply, headers: { ...reply.headers, allow: error.allow } };
    // The rest of a too-large body is not read: the connection cannot carry another request after it.
    if (status === 413) return { ...reply, headers: { ...reply.headers, connection: 'close' } };
    return reply;
  }
}
