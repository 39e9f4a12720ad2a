// The cache an orchestrator's `cache` option asks for, around the port that runs attempts: one
// store and one input index per orchestrator, both in the cache directory (shared with other
// processes through the store's atomic renames).
import * as path from 'node:path';
import type { TaskRecord } from '../model/model';
import type { OrchestratorWarning } from '../model/warnings';
import { RoutedExecution } from '../execution/routedExecution';
import { CachingExecution, type InnerExecution } from './cachingExecution';
import { CacheStore } from './cacheStore';
import { InputIndex } from './inputIndex';

/** createOrchestrator's `cache` option (checked in orchestrator/options.ts): see OrchestratorOptions.cache. */
export interface CacheOptions {
  /** Where the store keeps its entries and blobs, and the input index its file. */
  dir: string;
  /** Size cap in bytes; the least recently used entries go beyond it. Default 512 MB. */
  maxBytes?: number;
  /** False: every task runs and nothing is stored. Default true. */
  enabled?: boolean;
  /** The workspace folder: the cwd of tasks without one. Default the process's cwd. */
  root?: string;
}

/** The file of the input index (path, size, mtime, inode -> hash) inside the cache directory. */
export const INPUT_INDEX_FILE = 'inputIndex.json';

/** `inner` itself without the option; else `inner` behind a CachingExecution. */
export function withCache<P extends InnerExecution>(
  inner: P,
  options: CacheOptions | undefined,
  lookup: (id: string) => Readonly<TaskRecord> | undefined,
  onWarn: (warning: OrchestratorWarning) => void,
): P | CachingExecution {
  if (options === undefined) return inner;
  const dir = path.resolve(options.dir);
  const store = new CacheStore(dir, {
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
    onWarn: (message: string) => onWarn({ code: 'CACHE_FAILED', message }),
  });
  return new CachingExecution(inner, {
    store,
    index: new InputIndex(path.join(dir, INPUT_INDEX_FILE)),
    root: path.resolve(options.root ?? '.'),
    lookup,
    onWarn,
    ...(options.enabled !== undefined ? { enabled: options.enabled } : {}),
    ...(inner instanceof RoutedExecution ? { runsElsewhere: (task: TaskRecord) => inner.remote.kinds.has(task.kind) } : {}),
  });
}

/** The port a CachingExecution wraps, or the port itself. */
export function innerExecution(port: InnerExecution | CachingExecution): InnerExecution {
  return port instanceof CachingExecution ? port.inner : port;
}
