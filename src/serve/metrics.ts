// Prometheus metrics of one server, in a registry of its own so that several servers (or the host app) never clash.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BackendStats } from '../backend/backend.js';
import type { BatchEvent } from '../udf/udf.js';

/** How an inference request was encoded: JSON tensors, JSON with binary tensor data, or an Arrow IPC stream. */
export type InferProtocol = 'json' | 'binary' | 'arrow';

/** Where the gauges read their values at scrape time. */
export interface MetricsSource {
  readonly model: string;
  /** The backend's stats, when the server knows its pool. */
  stats(): BackendStats | undefined;
  ready(): boolean;
}

// Model calls range from sub-millisecond arithmetic to multi-second networks.
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const ROWS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16_384, 65_536];

export class ServeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'model' | 'protocol' | 'code'>;
  private readonly requestSeconds: Histogram<'model' | 'protocol'>;
  private readonly batchRows: Histogram<'model'>;
  private readonly batchSeconds: Histogram<'model' | 'ok'>;
  private readonly inFlight: Gauge<'model'>;

  constructor(private readonly source: MetricsSource) {
    const registers = [this.registry];
    const model = source.model;
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'pyudf_requests_total', help: 'Inference requests answered, by encoding and HTTP status', labelNames: ['model', 'protocol', 'code'], registers,
    });
    this.requestSeconds = new Histogram({
      name: 'pyudf_request_duration_seconds', help: 'Time from an inference request arriving to its reply being written', labelNames: ['model', 'protocol'], buckets: SECONDS, registers,
    });
    this.batchRows = new Histogram({
      name: 'pyudf_batch_rows', help: 'Rows per batch a worker ran (concurrent requests share batches)', labelNames: ['model'], buckets: ROWS, registers,
    });
    this.batchSeconds = new Histogram({
      name: 'pyudf_batch_duration_seconds', help: 'Time a worker took per batch, by success', labelNames: ['model', 'ok'], buckets: SECONDS, registers,
    });
    this.inFlight = new Gauge({ name: 'pyudf_requests_in_flight', help: 'Inference requests being served', labelNames: ['model'], registers });
    new Gauge({
      name: 'pyudf_queue_depth', help: 'Batches waiting for a free worker', labelNames: ['model'], registers,
      collect() { const stats = source.stats(); if (stats) this.set({ model }, stats.queued); },
    });
    new Gauge({
      name: 'pyudf_workers_ready', help: 'Workers started and serving', labelNames: ['model'], registers,
      collect() { const stats = source.stats(); if (stats) this.set({ model }, stats.readyWorkers); },
    });
    new Counter({
      name: 'pyudf_worker_restarts_total', help: 'Workers started to replace ones that died', labelNames: ['model'], registers,
      // The pool keeps the count; a counter cannot be set, so it is rebuilt from that count at each scrape.
      collect() { const stats = source.stats(); if (stats) { this.reset(); this.inc({ model }, stats.restarts); } },
    });
    new Gauge({
      name: 'pyudf_model_ready', help: '1 while the model is loaded and a worker serves it', labelNames: ['model'], registers,
      collect() { this.set({ model }, source.ready() ? 1 : 0); },
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
  startRequest(protocol: InferProtocol): (status: number) => void {
    const model = this.source.model;
    const started = process.hrtime.bigint();
    this.inFlight.inc({ model });
    return (status) => {
      this.inFlight.dec({ model });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.requests.inc({ model, protocol, code: String(status) });
      this.requestSeconds.observe({ model, protocol }, seconds);
    };
  }

  recordBatch(event: BatchEvent): void {
    const model = this.source.model;
    this.batchRows.observe({ model }, event.rows);
    this.batchSeconds.observe({ model, ok: String(event.ok) }, event.durationMs / 1000);
  }
}
