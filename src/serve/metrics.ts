// Prometheus metrics of one server, labelled by model and version, in a registry of its own so that several servers (or the host app) never clash.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BackendStats } from '../backend/backend.js';
import type { BatchEvent } from '../udf/udf.js';
import type { IndexEntry } from './served-models.js';

/** How an inference request was encoded: JSON tensors, JSON with binary tensor data, an Arrow IPC stream, or gRPC. */
export type InferProtocol = 'json' | 'binary' | 'arrow' | 'grpc';

/** Where the gauges read their values at scrape time. */
export interface MetricsSource {
  /** The backend's stats, when the server knows its pool. */
  stats(): BackendStats | undefined;
  /** Every version served, with its state. */
  versions(): readonly IndexEntry[];
}

// Model calls range from sub-millisecond arithmetic to multi-second networks.
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const ROWS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16_384, 65_536];

/**
 * Labels of a request: `version` is '' when the request never reached a version (an unknown model, say).
 * A model or version the server does not serve is recorded as '' (clients pick the names in URLs and
 * ModelInfer requests: labelled as given, random names would grow the registry without bound).
 */
export interface RequestLabels {
  readonly model: string;
  readonly version: string;
  readonly protocol: InferProtocol;
}

export class ServeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'model' | 'version' | 'protocol' | 'code'>;
  private readonly requestSeconds: Histogram<'model' | 'version' | 'protocol'>;
  private readonly batchRows: Histogram<'model' | 'version'>;
  private readonly batchSeconds: Histogram<'model' | 'version' | 'ok'>;
  private readonly inFlight: Gauge<'model' | 'version'>;

  constructor(private readonly source: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'pyudf_requests_total', help: 'Inference requests answered, by encoding and status (the HTTP status, or the gRPC code name)', labelNames: ['model', 'version', 'protocol', 'code'], registers,
    });
    this.requestSeconds = new Histogram({
      name: 'pyudf_request_duration_seconds', help: 'Time from an inference request arriving to its reply being written', labelNames: ['model', 'version', 'protocol'], buckets: SECONDS, registers,
    });
    this.batchRows = new Histogram({
      name: 'pyudf_batch_rows', help: 'Rows per batch a worker ran (concurrent requests share batches)', labelNames: ['model', 'version'], buckets: ROWS, registers,
    });
    this.batchSeconds = new Histogram({
      name: 'pyudf_batch_duration_seconds', help: 'Time a worker took per batch, by success', labelNames: ['model', 'version', 'ok'], buckets: SECONDS, registers,
    });
    this.inFlight = new Gauge({ name: 'pyudf_requests_in_flight', help: 'Inference requests being served', labelNames: ['model', 'version'], registers });
    new Gauge({
      name: 'pyudf_queue_depth', help: 'Batches waiting for a free worker (every model of the pool)', registers,
      collect() { const stats = source.stats(); if (stats) this.set(stats.queued); },
    });
    new Gauge({
      name: 'pyudf_workers_ready', help: 'Workers started and serving', registers,
      collect() { const stats = source.stats(); if (stats) this.set(stats.readyWorkers); },
    });
    new Counter({
      name: 'pyudf_worker_restarts_total', help: 'Workers started to replace ones that died', registers,
      // The pool keeps the count; a counter cannot be set, so it is rebuilt from that count at each scrape.
      collect() { const stats = source.stats(); if (stats) { this.reset(); this.inc(stats.restarts); } },
    });
    new Gauge({
      name: 'pyudf_model_ready', help: '1 while the model version is loaded and serving', labelNames: ['model', 'version'], registers,
      collect() {
        this.reset();
        for (const { name, version, state } of source.versions()) if (version !== '') this.set({ model: name, version }, state === 'READY' ? 1 : 0);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text for GET /metrics. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** Marks a request started; call the returned function with its status once the reply is written. */
  startRequest(labels: RequestLabels): (status: number) => void {
    const started = process.hrtime.bigint();
    const { model, version, protocol } = this.served(labels);
    this.inFlight.inc({ model, version });
    return (status) => {
      this.inFlight.dec({ model, version });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.requests.inc({ model, version, protocol, code: String(status) });
      this.requestSeconds.observe({ model, version, protocol }, seconds);
    };
  }

  /** Records a request timed elsewhere (a gRPC call): `code` is its status, an HTTP number or a gRPC code name. */
  recordRequest(labels: RequestLabels, code: string, durationMs: number): void {
    const { model, version, protocol } = this.served(labels);
    this.requests.inc({ model, version, protocol, code });
    this.requestSeconds.observe({ model, version, protocol }, durationMs / 1000);
  }

  /** The labels with a model or version the server does not serve (any state counts as served) as ''. */
  private served(labels: RequestLabels): RequestLabels {
    const versions = this.source.versions().filter((entry) => entry.name === labels.model);
    if (versions.length === 0) return { ...labels, model: '', version: '' };
    return versions.some((entry) => entry.version === labels.version) ? labels : { ...labels, version: '' };
  }

  /** Records a version's batches until the returned function is called. */
  observe(model: string, version: string, udf: { observe(listener: (event: BatchEvent) => void): () => void }): () => void {
    return udf.observe((event) => {
      this.batchRows.observe({ model, version }, event.rows);
      this.batchSeconds.observe({ model, version, ok: String(event.ok) }, event.durationMs / 1000);
    });
  }
}
