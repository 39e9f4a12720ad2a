// What the core reports without failing a call: a saved state it could not read, a write or an
// archive that failed, a listener that threw. Lower layers (state, executors) raise them; the
// orchestrator fans them out on `onDidWarn`.

export interface OrchestratorWarning {
  code: 'CORRUPT_STATE' | 'STORE_WRITE_FAILED' | 'ARCHIVE_FAILED' | 'RECOVERED' | 'LISTENER_FAILED' | 'QUEUE_FULL';
  message: string;
}
