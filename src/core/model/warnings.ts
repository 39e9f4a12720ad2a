// What the core reports without failing a call: a saved state it could not read, a write or an
// archive that failed, a listener that threw. Lower layers (state, executors) raise them; the
// orchestrator fans them out on `onDidWarn`.

export interface OrchestratorWarning {
  code:
    | 'CORRUPT_STATE'
    | 'STORE_WRITE_FAILED'
    | 'ARCHIVE_FAILED'
    | 'RECOVERED'
    | 'LISTENER_FAILED'
    | 'QUEUE_FULL'
    /** A cached task's input could not be read: it ran without the cache. */
    | 'CACHE_INPUT_UNREADABLE'
    /** The cache could not be read or written (a corrupt entry, a full disk): the task ran or completed without it. */
    | 'CACHE_FAILED';
  message: string;
}
