// The texts and layout arithmetic of the dashboard's timeline (src/webview/timelineView.ts): pure,
// free of the DOM and of uPlot, so they are tested in plain Node.
import type { CacheFigures, TimelineBar, TimelineRun, TimelineRunOption } from '../dashboardProtocol/protocol';
import { STAGE_LABELS } from '../dashboardProtocol/protocol';
import { formatDuration } from '../dashboardProtocol/format';
import { formatClock, formatCount } from './format';

function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatCount(n)} ${n === 1 ? word : many}`;
}

/** "3 hits · 1 miss · saved 41.0 s"; "no cached tasks" when nothing ran under a cache key. */
export function cacheText(c: CacheFigures): string {
  if (c.hits === 0 && c.misses === 0) return 'no cached tasks';
  return `${plural(c.hits, 'hit')} · ${plural(c.misses, 'miss', 'misses')} · saved ${formatDuration(c.savedMs)}`;
}

/** The cache KPI card's line under the hits: "1 miss · saved 41.0 s". */
export function cacheSub(c: CacheFigures): string {
  if (c.hits === 0 && c.misses === 0) return 'no cached tasks';
  return `${plural(c.misses, 'miss', 'misses')} · saved ${formatDuration(c.savedMs)}`;
}

/** Hits out of hits and misses, 0..1; 0 when there is neither. */
export function hitRate(c: CacheFigures): number {
  const all = c.hits + c.misses;
  return all > 0 ? c.hits / all : 0;
}

/** A run in the picker: "ci · 14:03:27 · 6 tasks", "· running" while unfinished. */
export function runLabel(r: TimelineRunOption): string {
  return `${r.name} · ${formatClock(r.startedAt)} · ${plural(r.tasks, 'task')}${r.finished ? '' : ' · running'}`;
}

/** The panel's aside: "critical path: 3 tasks, 4.20 s · 2 not shown". */
export function runSummary(run: TimelineRun): string {
  const critical = run.bars.filter((b) => b.critical).length;
  const path = critical > 0 ? `critical path: ${plural(critical, 'task')}, ${formatDuration(run.criticalMs)}` : 'no critical path yet';
  return run.omitted > 0 ? `${path} · ${formatCount(run.omitted)} more not shown` : path;
}

/** Where a bar ends on the chart: its finish, else (running) `now`, else its last segment's end, else its start. ms after the run's start. */
export function barEnd(bar: TimelineBar, now: number): number {
  if (bar.end !== undefined) return bar.end;
  const last = bar.segments[bar.segments.length - 1];
  if (last && last.to === undefined) return Math.max(last.from, now);
  return last?.to ?? bar.ready ?? 0;
}

/** Where a bar starts: ready, else (never ready) its end. */
export function barStart(bar: TimelineBar, now: number): number {
  return bar.ready ?? barEnd(bar, now);
}

/** The right edge of the time axis: the latest bar end, at least 1 s. */
export function timeSpan(run: TimelineRun, now: number): number {
  return run.bars.reduce((max, b) => Math.max(max, barEnd(b, now)), 1000);
}

/** What a bar says under the pointer and to a screen reader: name, status, times, cached, critical. */
export function barText(bar: TimelineBar, now: number): string {
  const parts = [bar.name, STAGE_LABELS[bar.status]];
  const waited = bar.segments.filter((s) => s.kind === 'wait').reduce((sum, s) => sum + ((s.to ?? now) - s.from), 0);
  const ran = bar.segments.filter((s) => s.kind === 'run').reduce((sum, s) => sum + ((s.to ?? now) - s.from), 0);
  if (bar.ready === undefined) parts.push('never ready');
  else parts.push(`ready at +${formatDuration(bar.ready)}`, `waited ${formatDuration(waited)}`, `ran ${formatDuration(ran)}`);
  if (bar.cached) parts.push(`cached · saved ${formatDuration(bar.cached.savedMs)}`);
  if (bar.critical) parts.push('critical path');
  return parts.join(' · ');
}

/** The row under a vertical position, where rows are `rowPx` tall from `top`; undefined outside. */
export function rowAt(y: number, top: number, rowPx: number, rows: number): number | undefined {
  if (rowPx <= 0) return undefined;
  const row = Math.floor((y - top) / rowPx);
  return row >= 0 && row < rows ? row : undefined;
}

/** "1.5s", "2m", "90ms" for the time axis's ticks, in ms after the run's start. */
export function formatOffset(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  return `${+(ms / 3_600_000).toFixed(1)}h`;
}
