// The options `createOrchestrator` takes. Plain data and the ports a host provides; checked by
// validateOrchestratorOptions (model/validation.ts) before anything is created.
import type { Clock, Executor, HistoryArchive, Store } from '../ports';

/** Waiting this long counts as one priority level, unless `agingMs` says otherwise. */
export const DEFAULT_AGING_MS = 10_000;

export interface OrchestratorOptions {
  /** Tasks running at once; default: the number of CPUs. */
  concurrency?: number;
  /** Named pools and their capacities, e.g. `{ gpu: 1, network: 4 }`. */
  resources?: Record<string, number>;
  /** Default: in memory. */
  store?: Store;
  /** Extra task kinds, by name. */
  executors?: Record<string, Executor>;
  /** Where finished records go when they leave the snapshot's byte budget. */
  archive?: HistoryArchive;
  clock?: Clock;
  /** Waiting this long counts as one priority level (aging). Infinity disables aging. Default 10 s. */
  agingMs?: number;
  /** Finished records kept in memory and in the snapshot (newest first). */
  maxFinished?: number;
  /** Default per-attempt timeout for specs without one. */
  defaultTimeoutMs?: number;
  /** Default retries for specs without them. */
  defaultRetries?: number;
  /** Grace between SIGTERM and SIGKILL when stopping a process tree. */
  killGraceMs?: number;
  /**
   * Start paused, restored tasks included: nothing starts until `resume()`. For hosts that must
   * check something first (e.g. Workspace Trust) before restored work may go on.
   */
  startPaused?: boolean;
}
