// The orchestrator as the extension host uses it: the core's Orchestrator plus its message queue and
// its live output event (optional: without it Show Output shows the record's kept tail).
import type { Event } from '../core/util/events';
import type { PerformanceMetrics } from '../core/metrics/metricsTypes';
import type { Orchestrator } from '../core/orchestrator/orchestratorTypes';
import type { MessageQueueApi } from '../core/queue/queueTypes';
import type { OutputChunk } from './tasksView/taskOutput';

export type HostOrchestrator = Orchestrator & {
  readonly queue: MessageQueueApi;
  /** The Performance Monitor, which the dashboard reads. */
  readonly monitor: { getPerformanceMetrics(): PerformanceMetrics };
  readonly onDidOutput?: Event<OutputChunk>;
};
