// How the cache shows on a task: the words of its tree description and its tooltip rows. Plain text,
// no `vscode`, so the CLI's views could say the same and unit tests read it directly.
import type { TaskRecord } from '../../core/model/model';
import { formatDuration } from '../../core/util/formatDuration';

/** Enough of a sha256 key to tell entries apart in a tooltip; Show Details has the whole key. */
const KEY_PREFIX = 12;

/** The record's cache hit: only a completed task can have been restored. */
export function cachedOf(record: TaskRecord): NonNullable<NonNullable<TaskRecord['result']>['cached']> | undefined {
  return record.status === 'completed' ? record.result?.cached : undefined;
}

export function shortKey(key: string): string {
  return key.length > KEY_PREFIX ? `${key.slice(0, KEY_PREFIX)}…` : key;
}

/** The description's leading words: `cached · saved 41.0 s` for a hit, `flaky` for a flaky key; none otherwise. */
export function cacheDescriptionParts(record: TaskRecord): string[] {
  const parts: string[] = [];
  const cached = cachedOf(record);
  if (cached) parts.push('cached', `saved ${formatDuration(cached.savedMs)}`);
  if (record.result?.flaky) parts.push('flaky');
  return parts;
}

/** Tooltip rows: where a hit was restored from and what it saved, the key a run was stored under, and flakiness. */
export function cacheTooltipRows(record: TaskRecord): [string, string][] {
  const rows: [string, string][] = [];
  const cached = cachedOf(record);
  if (cached) rows.push(['Restored from cache', `entry ${shortKey(cached.key)}, saved ${formatDuration(cached.savedMs)}`]);
  else if (record.result?.cacheKey) rows.push(['Cache key', shortKey(record.result.cacheKey)]);
  if (record.noCache) rows.push(['Cache', 'not read (Run Without Cache)']);
  if (record.result?.flaky) rows.push(['Flaky', 'the same inputs once completed and once failed']);
  return rows;
}
