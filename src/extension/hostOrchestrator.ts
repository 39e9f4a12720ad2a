// The orchestrator as the extension host uses it: the core's Orchestrator plus its message queue and
// its live output event (optional: without it Show Output shows the record's kept tail).
import type { Event } from '../core/events';
import type { PerformanceMetrics } from '../core/metricsTypes';
import type { Orchestrator } from '../core/orchestratorTypes';
import type { MessageQueueApi } from '../core/queueTypes';
import type { OutputChunk } from './taskOutput';

export type HostOrchestrator = Orchestrator & {
  readonly queue: MessageQueueApi;
  /** The Performance Monitor, which the dashboard reads. */
  readonly monitor: { getPerformanceMetrics(): PerformanceMetrics };
  readonly onDidOutput?: Event<OutputChunk>;
};
