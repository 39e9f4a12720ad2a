// Diffing and patching dashboard snapshots: the host sends only what changed, the webview rebuilds
// the whole. The contract, which the unit tests check: for any two snapshots a and b,
// `applyPatch(a, diffSnapshot(a, b))` deep-equals b, and `diffSnapshot(a, a)` is undefined.
import {
  SECTION_NAMES,
  columnsLength,
  type DashboardPatch,
  type DashboardSnapshot,
  type SeriesColumns,
  type SeriesPatch,
  type SeriesSection,
} from './protocol';

/** Structural equality for JSON-shaped data (what snapshots are made of). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => jsonEqual(ao[k], bo[k]));
}

function sliceColumns(c: SeriesColumns, from: number, to?: number): SeriesColumns {
  const utilization: Record<string, number[]> = {};
  for (const [pool, values] of Object.entries(c.utilization)) utilization[pool] = values.slice(from, to);
  return {
    throughput: c.throughput.slice(from, to),
    completed: c.completed.slice(from, to),
    failed: c.failed.slice(from, to),
    queueDepth: c.queueDepth.slice(from, to),
    running: c.running.slice(from, to),
    meanDuration: c.meanDuration.slice(from, to),
    messages: c.messages.slice(from, to),
    utilization,
  };
}

function concatColumns(a: SeriesColumns, b: SeriesColumns): SeriesColumns {
  const utilization: Record<string, number[]> = {};
  for (const [pool, column] of Object.entries(b.utilization)) utilization[pool] = [...(a.utilization[pool] ?? []), ...column];
  return {
    throughput: [...a.throughput, ...b.throughput],
    completed: [...a.completed, ...b.completed],
    failed: [...a.failed, ...b.failed],
    queueDepth: [...a.queueDepth, ...b.queueDepth],
    running: [...a.running, ...b.running],
    meanDuration: [...a.meanDuration, ...b.meanDuration],
    messages: [...a.messages, ...b.messages],
    utilization,
  };
}

function bucketEqual(a: SeriesColumns, i: number, b: SeriesColumns, j: number): boolean {
  if (
    a.throughput[i] !== b.throughput[j] ||
    a.completed[i] !== b.completed[j] ||
    a.failed[i] !== b.failed[j] ||
    a.queueDepth[i] !== b.queueDepth[j] ||
    a.running[i] !== b.running[j] ||
    a.meanDuration[i] !== b.meanDuration[j] ||
    a.messages[i] !== b.messages[j]
  ) {
    return false;
  }
  return Object.entries(b.utilization).every(([pool, column]) => a.utilization[pool]?.[i] === column[j]);
}

function samePools(a: SeriesColumns, b: SeriesColumns): boolean {
  const ak = Object.keys(a.utilization).sort();
  const bk = Object.keys(b.utilization).sort();
  return ak.length === bk.length && ak.every((k, i) => k === bk[i]);
}

/**
 * Where `next` can reuse `prev`: the offset of next's first bucket inside prev (the window rolled by
 * that many buckets), or undefined when it cannot (a different bucket size, a start that is not on
 * prev's grid or moved backwards, a different set of pools).
 */
function alignment(prev: SeriesSection, next: SeriesSection): number | undefined {
  if (prev.bucketMs !== next.bucketMs || !samePools(prev, next)) return undefined;
  const offset = (next.start - prev.start) / prev.bucketMs;
  return Number.isInteger(offset) && offset >= 0 ? offset : undefined;
}

export function diffSeries(prev: SeriesSection, next: SeriesSection): SeriesPatch | undefined {
  const offset = alignment(prev, next);
  const n = columnsLength(next);
  let keep = 0;
  if (offset !== undefined) {
    const available = Math.max(0, columnsLength(prev) - offset);
    while (keep < n && keep < available && bucketEqual(prev, offset + keep, next, keep)) keep++;
    if (offset === 0 && keep === n && columnsLength(prev) === n) return undefined;
  }
  return { start: next.start, bucketMs: next.bucketMs, keep, tail: sliceColumns(next, keep) };
}

/** The series after `patch`, or undefined when the patch does not fit `prev` (the receiver resyncs). */
export function applySeriesPatch(prev: SeriesSection, patch: SeriesPatch): SeriesSection | undefined {
  if (patch.keep === 0) {
    return { start: patch.start, bucketMs: patch.bucketMs, ...sliceColumns(patch.tail, 0) };
  }
  const offset = alignment(prev, { ...patch.tail, start: patch.start, bucketMs: patch.bucketMs });
  if (offset === undefined || offset + patch.keep > columnsLength(prev)) return undefined;
  const kept = sliceColumns(prev, offset, offset + patch.keep);
  return { start: patch.start, bucketMs: patch.bucketMs, ...concatColumns(kept, patch.tail) };
}

/** What changed from `prev` to `next`, or undefined when nothing did. */
export function diffSnapshot(prev: DashboardSnapshot, next: DashboardSnapshot): DashboardPatch | undefined {
  const patch: DashboardPatch = {};
  let changed = false;
  for (const name of SECTION_NAMES) {
    if (name === 'series') {
      const series = diffSeries(prev.series, next.series);
      if (series) {
        patch.series = series;
        changed = true;
      }
    } else if (!jsonEqual(prev[name], next[name])) {
      // The cast is sound: `name` indexes the same section on both sides.
      (patch as Record<string, unknown>)[name] = next[name];
      changed = true;
    }
  }
  return changed ? patch : undefined;
}

/** The snapshot after `patch`, or undefined when the patch does not fit `prev`. */
export function applyPatch(prev: DashboardSnapshot, patch: DashboardPatch): DashboardSnapshot | undefined {
  let series = prev.series;
  if (patch.series) {
    const applied = applySeriesPatch(prev.series, patch.series);
    if (!applied) return undefined;
    series = applied;
  }
  return {
    status: patch.status ?? prev.status,
    headline: patch.headline ?? prev.headline,
    pools: patch.pools ?? prev.pools,
    histogram: patch.histogram ?? prev.histogram,
    series,
    queue: patch.queue ?? prev.queue,
    failures: patch.failures ?? prev.failures,
    // Null is a value here (the local backend), so only an absent section keeps the previous one.
    fleet: patch.fleet !== undefined ? patch.fleet : prev.fleet,
    services: patch.services ?? prev.services,
    timeline: patch.timeline ?? prev.timeline,
    cache: patch.cache ?? prev.cache,
  };
}
