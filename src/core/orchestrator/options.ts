// The options `createOrchestrator` takes, and their check: plain data and the ports a host provides
// arrive as `unknown` and leave as checked values with defaults filled in, or as a ValidationError
// naming the option. Unknown options are refused; a refusal creates nothing. The runtime setters
// (setConcurrency, setMaxFinished) check their value with the same functions.
import { availableParallelism, cpus } from 'node:os';
import { describeValue, ValidationError } from '../model/errors';
import { isPlainObject } from '../model/guards';
import { LIMITS } from '../model/limits';
import { DEFAULT_AGING_MS } from '../model/orchestratorOptions';
import { checkDelay, checkInteger, fail, NAME_PATTERN, quoteList, unknownField } from '../model/fieldChecks';
import { validateResourceCapacities } from '../model/resourceCapacities';
import type { Clock, Executor, HistoryArchive, PendingStore, Store } from '../ports';
import type { RemoteExecution } from '../execution/routedExecution';
import type { CacheOptions } from '../cache/cacheWiring';

export type { CacheOptions };

export interface OrchestratorOptions {
  /**
   * Tasks running at once. 0 (the default) is automatic: one per CPU of this machine, plus the live
   * slots of a remote fleet that reports them (RemoteExecution.slots), followed as workers come and go.
   */
  concurrency?: number;
  /** Named pools and their capacities, e.g. `{ gpu: 1, network: 4 }`. */
  resources?: Record<string, number>;
  /** Default: in memory. */
  store?: Store;
  /** Extra task kinds, by name. */
  executors?: Record<string, Executor>;
  /** Where finished records go when they leave the snapshot's byte budget. */
  archive?: HistoryArchive;
  /**
   * Where unfinished tasks beyond the saved state's byte budget go (a run journal), so the state stays
   * small whatever the backlog; read back at start. Without it every unfinished task is in the state.
   */
  pending?: PendingStore;
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
  /**
   * Where the attempts of some kinds run instead of this process: a remote backend (e.g. workers on
   * BullMQ and Redis). The dispatcher still orders, gates and admits every task here.
   */
  remote?: RemoteExecution;
  /**
   * The task cache (tasks with `cache` are restored when their key was stored): where it lives, its
   * size cap (LRU eviction beyond it; default 512 MB), whether it is used (default true), and the
   * workspace folder (`root`: the cwd of tasks without one; default the process's cwd).
   */
  cache?: CacheOptions;
}

const CACHE_OPTION_FIELDS: readonly string[] = ['dir', 'maxBytes', 'enabled', 'root'];

type Defaulted = 'concurrency' | 'resources' | 'executors' | 'agingMs';
export type ValidOrchestratorOptions = Required<Pick<OrchestratorOptions, Defaulted>> & Omit<OrchestratorOptions, Defaulted>;

const OPTION_FIELDS: readonly string[] = [
  'concurrency',
  'resources',
  'store',
  'executors',
  'archive',
  'pending',
  'clock',
  'agingMs',
  'maxFinished',
  'defaultTimeoutMs',
  'defaultRetries',
  'killGraceMs',
  'startPaused',
  'remote',
  'cache',
];
const OPTION_FIELD_SET: ReadonlySet<string> = new Set(OPTION_FIELDS);

function checkFunctions(field: string, value: unknown, methods: readonly string[], shape: string): void {
  if (typeof value !== 'object' || value === null || methods.some((m) => typeof (value as Record<string, unknown>)[m] !== 'function')) {
    fail(field, `${shape} (an object with ${quoteList(methods.map((m) => `${m}()`))})`, value);
  }
}

/** `concurrency`, from createOrchestrator's options or setConcurrency: tasks running at once, 0 for automatic (concurrencyLimit.ts). */
export function checkConcurrency(value: unknown): number {
  return checkInteger('concurrency', value, 0, LIMITS.concurrency, "an integer number of tasks (0: automatic, one per CPU plus a remote fleet's slots)");
}

/** `maxFinished`, from createOrchestrator's options or setMaxFinished: finished records kept. */
export function checkMaxFinished(value: unknown): number {
  return checkInteger('maxFinished', value, 0, LIMITS.maxFinished, 'an integer number of records');
}

export function defaultConcurrency(): number {
  // availableParallelism honours CPU affinity and cgroup limits; cpus() can be empty on some platforms.
  const n = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  return n > 0 ? n : 1;
}

/** Checks the options of createOrchestrator and fills in defaults. Unknown options are refused. */
export function validateOrchestratorOptions(options: unknown): ValidOrchestratorOptions {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) fail('options', 'a plain object of orchestrator options', options);
  for (const k in options) if (!OPTION_FIELD_SET.has(k)) unknownField('', k, OPTION_FIELDS, 'the orchestrator options');
  const o = options;
  const out: ValidOrchestratorOptions = {
    concurrency: o.concurrency === undefined ? 0 : checkConcurrency(o.concurrency),
    resources: o.resources === undefined ? {} : validateResourceCapacities(o.resources),
    executors: {},
    agingMs: DEFAULT_AGING_MS,
  };
  if (o.agingMs !== undefined) {
    const a = o.agingMs;
    if (typeof a !== 'number' || Number.isNaN(a) || a <= 0)
      fail('agingMs', 'a positive number of ms (waiting that long counts as one priority level), or Infinity to disable aging', a);
    out.agingMs = a;
  }
  if (o.executors !== undefined) {
    if (!isPlainObject(o.executors)) fail('executors', 'a plain object of kind names to executors, like `{ docker: { execute(ctx) {...} } }`', o.executors);
    for (const kind in o.executors) {
      if (!NAME_PATTERN.test(kind)) {
        throw new ValidationError(
          `Expected \`executors\` to have kind names of a letter then up to 63 letters, digits, \`_\`, \`.\` or \`-\`, got ${describeValue(kind)}`,
          `executors.${kind}`,
        );
      }
      checkFunctions(`executors.${kind}`, o.executors[kind], ['execute'], 'an executor');
      out.executors[kind] = o.executors[kind] as ValidOrchestratorOptions['executors'][string];
    }
  }
  if (o.store !== undefined) {
    checkFunctions('store', o.store, ['keys', 'get', 'update'], 'a Store shaped like vscode.Memento');
    out.store = o.store as ValidOrchestratorOptions['store'];
  }
  if (o.archive !== undefined) {
    checkFunctions('archive', o.archive, ['append'], 'a HistoryArchive');
    out.archive = o.archive as ValidOrchestratorOptions['archive'];
  }
  if (o.pending !== undefined) {
    checkFunctions('pending', o.pending, ['writePending', 'readPending', 'prunePending'], 'a PendingStore');
    out.pending = o.pending as ValidOrchestratorOptions['pending'];
  }
  if (o.clock !== undefined) {
    checkFunctions('clock', o.clock, ['now', 'setTimeout', 'clearTimeout'], 'a Clock');
    out.clock = o.clock as ValidOrchestratorOptions['clock'];
  }
  if (o.startPaused !== undefined) {
    if (typeof o.startPaused !== 'boolean') fail('startPaused', 'a boolean', o.startPaused);
    out.startPaused = o.startPaused;
  }
  if (o.remote !== undefined) {
    checkFunctions('remote', o.remote, ['start', 'cancel', 'dispose'], 'a RemoteExecution');
    if (!((o.remote as { kinds?: unknown }).kinds instanceof Set))
      fail('remote.kinds', 'a Set of the kinds the remote backend runs', (o.remote as { kinds?: unknown }).kinds);
    out.remote = o.remote as RemoteExecution;
  }
  if (o.cache !== undefined) out.cache = checkCacheOptions(o.cache);
  if (o.maxFinished !== undefined) out.maxFinished = checkMaxFinished(o.maxFinished);
  if (o.defaultTimeoutMs !== undefined) out.defaultTimeoutMs = checkDelay('defaultTimeoutMs', o.defaultTimeoutMs, 'positive');
  if (o.defaultRetries !== undefined)
    out.defaultRetries = checkInteger('defaultRetries', o.defaultRetries, 0, LIMITS.retries, 'an integer number of extra attempts');
  if (o.killGraceMs !== undefined) out.killGraceMs = checkDelay('killGraceMs', o.killGraceMs, 'zero');
  return out;
}

/** `cache`: a checked copy, or a ValidationError naming the field. */
function checkCacheOptions(value: unknown): CacheOptions {
  if (!isPlainObject(value)) fail('cache', 'a plain object like `{ dir: "/work/.orchestrator/cache", maxBytes?, enabled?, root? }`', value);
  for (const k in value) if (!CACHE_OPTION_FIELDS.includes(k)) unknownField('cache', k, CACHE_OPTION_FIELDS, 'the cache options');
  const dir = value.dir;
  if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0'))
    fail('cache.dir', 'a non-empty directory path (where the cache keeps its entries)', dir);
  const out: CacheOptions = { dir };
  if (value.maxBytes !== undefined) {
    const max = value.maxBytes;
    if (typeof max !== 'number' || !Number.isSafeInteger(max) || max <= 0)
      fail('cache.maxBytes', 'a positive integer number of bytes (beyond it the least recently used entries go)', max);
    out.maxBytes = max;
  }
  if (value.enabled !== undefined) {
    if (typeof value.enabled !== 'boolean') fail('cache.enabled', 'a boolean (false: every task runs and nothing is stored)', value.enabled);
    out.enabled = value.enabled;
  }
  if (value.root !== undefined) {
    if (typeof value.root !== 'string' || value.root.length === 0 || value.root.includes('\0'))
      fail('cache.root', 'a non-empty directory path (the workspace folder)', value.root);
    out.root = value.root;
  }
  return out;
}
