import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from './store/store.js';

/** Prometheus metrics of one Hookyard instance (its own registry, so several can live in one test process). */
export class Metrics {
  readonly registry = new Registry();
  readonly messagesAccepted = new Counter({ name: 'hookyard_messages_accepted_total', help: 'Messages accepted by the API', registers: [this.registry] });
  readonly attempts = new Counter({
    name: 'hookyard_delivery_attempts_total',
    help: 'Delivery attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly attemptDuration = new Histogram({
    name: 'hookyard_delivery_attempt_duration_seconds',
    help: 'Duration of one HTTP delivery attempt',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: 'hookyard_delivery_latency_seconds',
    help: 'Time from message accepted to successful delivery',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600, 36000],
    registers: [this.registry],
  });

  readonly inboundRequests = new Counter({
    name: 'hookyard_inbound_requests_total',
    help: 'Requests to receiving URLs by outcome (accepted, rejected, duplicate)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly processingRuns = new Counter({
    name: 'hookyard_inbound_processing_total',
    help: 'Processing runs of inbound requests (handler and forwards) by result',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  constructor(store: Store) {
    new Gauge({
      name: 'hookyard_inbound_jobs',
      help: 'Inbound processing jobs waiting (pending) or running',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const depth = await store.jobDepth();
        this.set({ status: 'pending' }, depth.pending);
        this.set({ status: 'running' }, depth.running);
      },
    });
    new Gauge({
      name: 'hookyard_queue_depth',
      help: 'Deliveries waiting (pending) or being attempted (sending)',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const depth = await store.queueDepth();
        this.set({ status: 'pending' }, depth.pending);
        this.set({ status: 'sending' }, depth.sending);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'hookyard_' });
  }
}
