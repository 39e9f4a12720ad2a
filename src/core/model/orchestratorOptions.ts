// Defaults of createOrchestrator's options (orchestrator/options.ts) that a lower layer reads too:
// the scheduler's priority queue ages by the same default the options fill in.

/** Waiting this long counts as one priority level, unless `agingMs` says otherwise. */
export const DEFAULT_AGING_MS = 10_000;
