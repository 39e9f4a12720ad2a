// Every bound the core enforces on what it is given, in one table. Validation, the runtime setters
// (setConcurrency, setMaxFinished), the records and the extension's settings all read it, so a bound
// changes here and nowhere else, and each message that enforces one states it.
// This module imports nothing: the webview may read it too.

export const LIMITS = {
  nameLength: 200,
  keyLength: 200,
  commandBytes: 32 * 1024,
  cwdLength: 4096,
  envEntries: 1000,
  /** Globs in one of a cache spec's lists (inputs, outputs) and names in its env list. */
  cacheEntries: 1000,
  /** A task payload, as JSON. */
  payloadBytes: 1024 * 1024,
  /** How deep a task payload may nest: deeper input is refused, not walked. */
  payloadDepth: 256,
  priority: 1_000_000,
  dependsOn: 10_000,
  workflowSpecs: 10_000,
  /** Node's timers overflow above 2^31 - 1 ms and fire at once. */
  maxDelayMs: 2 ** 31 - 1,
  retries: 100,
  poolCapacity: 1_000_000,
  /** Tasks running at once. Generous: each running task costs its own memory anyway. */
  concurrency: 1_000_000,
  /** Finished records kept in memory and in the store. */
  maxFinished: 1_000_000,
  /**
   * The longest reason or error message a record keeps, in characters, marker included. A cancel
   * reason or an executor's message can be any size; a record is persisted and shown, so it keeps
   * the head of such text and says how much was cut.
   */
  messageLength: 4096,
  /** A queue topic, subscription pattern or name, or message id. */
  topicLength: 200,
  /** The JSON of one application state kept by the StateCoordinator (setState). */
  appStateBytes: 64 * 1024,
} as const;
