// The dashboard's timeline (a Gantt chart of a workflow run) and cache figures, built from task
// records. Imports nothing from 'vscode', so it is tested in plain Node.
//
// A bar runs from the task's ready time (its first Scheduled: from then on only a free slot kept it
// waiting) to its finish; its segments come from the record's history: Scheduled -> Running is
// waiting, Running -> (Scheduled again for a retry, or a final status) is running. Every time is in ms
// after the run's start (its first task's creation), so the numbers stay small and the page needs no
// epoch arithmetic.
//
// The critical path is the chain of dependencies that determined when the run ended: from the task
// that finished last, step to the dependency that finished last (it released the task), until a task
// with no dependency in the run. Ties (equal finish times) go to the longer chain behind the task
// (the most run time summed along its longest dependency chain), then to the earlier bar.
import type { TaskRecord, TaskStatus } from '../../core/model/model';
import {
  MAX_BAR_SEGMENTS,
  MAX_TIMELINE_BARS,
  MAX_TIMELINE_RUNS,
  type CacheFigures,
  type TimelineBar,
  type TimelineRun,
  type TimelineRunOption,
  type TimelineSection,
  type TimelineSegment,
} from '../../dashboardProtocol/protocol';

const MAX_NAME = 500;
const MAX_ID = 200;
/** Runs remembered for the picker; the oldest are forgotten beyond this. */
const MAX_REMEMBERED_RUNS = 50;

const FINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The record's waiting and running stretches, in epoch ms; the last may be open (`to` undefined). */
export function segmentsOf(record: TaskRecord): { kind: 'wait' | 'run'; from: number; to?: number }[] {
  const out: { kind: 'wait' | 'run'; from: number; to?: number }[] = [];
  let open: { kind: 'wait' | 'run'; from: number } | undefined;
  for (const h of record.history) {
    const at = finite(h.at);
    if (at === undefined) continue;
    if (open) {
      out.push({ kind: open.kind, from: open.from, to: Math.max(open.from, at) });
      open = undefined;
    }
    if (h.status === 'scheduled') open = { kind: 'wait', from: at };
    else if (h.status === 'running') open = { kind: 'run', from: at };
  }
  if (open && !FINAL.has(record.status)) out.push({ kind: open.kind, from: open.from });
  return out;
}

/** When the record became ready: its first Scheduled, epoch ms. */
export function readyAt(record: TaskRecord): number | undefined {
  for (const h of record.history) if (h.status === 'scheduled') return finite(h.at);
  return undefined;
}

function finishedAt(record: TaskRecord): number | undefined {
  if (!FINAL.has(record.status)) return undefined;
  return finite(record.finishedAt) ?? finite(record.history[record.history.length - 1]?.at);
}

/** What the critical path needs of a task: times in any unit, `end` for a task that has not finished is "now". */
export interface PathNode {
  id: string;
  ready?: number;
  end?: number;
  /** Time it ran (the sum of its running segments). */
  runMs: number;
  dependsOn: readonly string[];
}

/**
 * The ids on the critical path, first to last. Nodes without `end` (never ready, or not finished
 * where the caller gives no "now") take no part. `nodes` order breaks the last ties.
 */
export function criticalPath(nodes: readonly PathNode[]): string[] {
  const byId = new Map<string, { node: PathNode; index: number }>();
  nodes.forEach((node, index) => {
    if (node.end !== undefined) byId.set(node.id, { node, index });
  });
  // The most run time summed along the longest dependency chain ending at each node, memoised.
  // Iterative (a run may be a chain of thousands of tasks: recursion would overflow the stack), and
  // safe against a cycle: records never have one, but a node met again on its own path counts 0.
  const chain = new Map<string, number>();
  const chainOf = (root: string): number => {
    const onPath = new Set<string>();
    const stack: { id: string; expanded: boolean }[] = [{ id: root, expanded: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const entry = byId.get(top.id);
      if (!entry || chain.has(top.id)) {
        stack.pop();
        continue;
      }
      if (!top.expanded) {
        top.expanded = true;
        onPath.add(top.id);
        for (const dep of entry.node.dependsOn) if (!chain.has(dep) && !onPath.has(dep) && byId.has(dep)) stack.push({ id: dep, expanded: false });
        continue;
      }
      let behind = 0;
      for (const dep of entry.node.dependsOn) behind = Math.max(behind, chain.get(dep) ?? 0);
      chain.set(top.id, behind + entry.node.runMs);
      onPath.delete(top.id);
      stack.pop();
    }
    return chain.get(root) ?? 0;
  };
  const better = (a: { node: PathNode; index: number }, b: { node: PathNode; index: number } | undefined): boolean => {
    if (!b) return true;
    const ae = a.node.end ?? 0;
    const be = b.node.end ?? 0;
    if (ae !== be) return ae > be;
    const ac = chainOf(a.node.id);
    const bc = chainOf(b.node.id);
    if (ac !== bc) return ac > bc;
    return a.index < b.index;
  };
  let current: { node: PathNode; index: number } | undefined;
  for (const entry of byId.values()) if (better(entry, current)) current = entry;
  const path: string[] = [];
  const seen = new Set<string>();
  while (current && !seen.has(current.node.id)) {
    seen.add(current.node.id);
    path.push(current.node.id);
    let next: { node: PathNode; index: number } | undefined;
    for (const dep of current.node.dependsOn) {
      const entry = byId.get(dep);
      if (entry && better(entry, next)) next = entry;
    }
    current = next;
  }
  return path.reverse();
}

/** A cached hit, a miss (ran under a cache key), or neither, for a finished record. */
function cacheOutcome(record: TaskRecord): { hit: boolean; savedMs: number } | undefined {
  if (!FINAL.has(record.status)) return undefined;
  const cached = record.result?.cached;
  if (cached) return { hit: true, savedMs: Math.max(0, finite(cached.savedMs) ?? 0) };
  if (typeof record.result?.cacheKey === 'string') return { hit: false, savedMs: 0 };
  return undefined;
}

export function cacheFigures(records: Iterable<TaskRecord>): CacheFigures {
  const figures: CacheFigures = { hits: 0, misses: 0, savedMs: 0 };
  for (const r of records) {
    const o = cacheOutcome(r);
    if (!o) continue;
    if (o.hit) figures.hits++;
    else figures.misses++;
    figures.savedMs += o.savedMs;
  }
  return figures;
}

/**
 * A workflow run's name: the workflow's (scheduled with a name), else the prefix its tasks' default
 * names share (`ci: lint` -> `ci`), else the first task's name.
 */
export function runName(records: readonly TaskRecord[]): string {
  const named = records.find((r) => r.workflowName !== undefined)?.workflowName;
  if (named !== undefined) return named.slice(0, MAX_NAME);
  for (const r of records) {
    const key = r.spec.key;
    if (key && r.name.endsWith(`: ${key}`) && r.name.length > key.length + 2) return r.name.slice(0, r.name.length - key.length - 2).slice(0, MAX_NAME);
  }
  return (records[0]?.name ?? 'workflow').slice(0, MAX_NAME);
}

function byReady(a: { ready?: number; createdAt: number; name: string; id: string }, b: typeof a): number {
  const ar = a.ready ?? Number.POSITIVE_INFINITY;
  const br = b.ready ?? Number.POSITIVE_INFINITY;
  if (ar !== br) return ar < br ? -1 : 1;
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The run's timeline: its records (any order) as bars in ready order, the first MAX_TIMELINE_BARS
 * of them, with the critical path marked. `now` (epoch ms) ends the path for tasks still running.
 */
export function timelineRun(id: string, records: readonly TaskRecord[], now: number): TimelineRun {
  const startedAt = records.reduce((min, r) => Math.min(min, finite(r.createdAt) ?? min), Number.POSITIVE_INFINITY);
  const origin = Number.isFinite(startedAt) ? startedAt : now;
  const rel = (t: number): number => Math.max(0, t - origin);
  const rows = records
    .map((record) => ({ record, id: record.id, name: record.name, createdAt: finite(record.createdAt) ?? origin, ready: readyAt(record) }))
    .sort(byReady);
  const nodes: PathNode[] = rows.map(({ record, ready }) => {
    const segments = segmentsOf(record);
    const runMs = segments.filter((s) => s.kind === 'run').reduce((sum, s) => sum + ((s.to ?? now) - s.from), 0);
    // A task that never became ready (cancelled with its failed dependency) determined nothing.
    const end = ready === undefined ? undefined : (finishedAt(record) ?? now);
    return { id: record.id, ready, end, runMs, dependsOn: record.dependsOn };
  });
  const path = criticalPath(nodes);
  const critical = new Set(path);
  const first = nodes.find((n) => n.id === path[0]);
  const last = nodes.find((n) => n.id === path[path.length - 1]);
  const criticalMs = first?.ready !== undefined && last?.end !== undefined ? Math.max(0, last.end - first.ready) : 0;
  const bars: TimelineBar[] = rows.slice(0, MAX_TIMELINE_BARS).map(({ record, ready }) => {
    const segments: TimelineSegment[] = segmentsOf(record)
      .slice(-MAX_BAR_SEGMENTS)
      .map((s) => (s.to === undefined ? { kind: s.kind, from: rel(s.from) } : { kind: s.kind, from: rel(s.from), to: rel(s.to) }));
    const bar: TimelineBar = {
      id: record.id.slice(0, MAX_ID),
      name: record.name.slice(0, MAX_NAME),
      status: record.status,
      segments,
      critical: critical.has(record.id),
    };
    if (ready !== undefined) bar.ready = rel(ready);
    const end = finishedAt(record);
    if (end !== undefined) bar.end = rel(end);
    const outcome = cacheOutcome(record);
    if (outcome?.hit) bar.cached = { savedMs: outcome.savedMs };
    return bar;
  });
  return {
    id: id.slice(0, MAX_ID),
    name: runName(rows.map((r) => r.record)),
    startedAt: origin,
    finished: records.every((r) => FINAL.has(r.status)),
    bars,
    omitted: Math.max(0, rows.length - bars.length),
    criticalMs,
    cache: cacheFigures(records),
  };
}

/**
 * The workflow runs the dashboard knows, kept up to date from task changes (as FailureLog) so a
 * refresh looks up only the few records of the runs it shows, never every record.
 */
export class RunLog {
  /**
   * Run id -> its task ids and its start (insertion order is not relied on), and the timeline last
   * built for it while no record of it has changed since: a finished run's is reused (an unfinished
   * one's depends on the clock), so a big run is not rebuilt four times a second.
   */
  private readonly runs = new Map<string, { ids: Set<string>; startedAt: number; built?: TimelineRun }>();

  reset(records: readonly TaskRecord[]): void {
    this.runs.clear();
    for (const r of records) this.observe(r);
  }

  observe(record: TaskRecord): void {
    const id = record.workflowId;
    if (!id) return;
    let run = this.runs.get(id);
    if (!run) {
      run = { ids: new Set(), startedAt: record.createdAt };
      this.runs.set(id, run);
      if (this.runs.size > MAX_REMEMBERED_RUNS) this.forgetOldest();
    }
    run.ids.add(record.id);
    run.startedAt = Math.min(run.startedAt, record.createdAt);
    run.built = undefined;
  }

  /** `selected`: the run the page picked; shown while it is still among the recent ones, else the newest. */
  read(lookup: (id: string) => TaskRecord | undefined, now: number, selected?: string): TimelineSection {
    const recent: { id: string; records: TaskRecord[]; built?: TimelineRun }[] = [];
    for (const [id, run] of [...this.runs].sort((a, b) => b[1].startedAt - a[1].startedAt)) {
      const records = [...run.ids].map(lookup).filter((r): r is TaskRecord => r !== undefined && r.workflowId === id);
      if (records.length === 0) {
        this.runs.delete(id);
        continue;
      }
      // A record removed since (Clear Finished fires no change) makes the kept timeline stale.
      if (run.built && run.built.bars.length + run.built.omitted !== records.length) run.built = undefined;
      recent.push({ id, records, built: run.built });
      if (recent.length === MAX_TIMELINE_RUNS) break;
    }
    const runs: TimelineRunOption[] = recent.map(({ id, records }) => ({
      id: id.slice(0, MAX_ID),
      name: runName(records),
      startedAt: records.reduce((min, r) => Math.min(min, r.createdAt), Number.POSITIVE_INFINITY),
      tasks: records.length,
      finished: records.every((r) => FINAL.has(r.status)),
    }));
    const shown = recent.find((r) => r.id === selected) ?? recent[0];
    let run: TimelineRun | null = null;
    if (shown) {
      run = shown.built ?? timelineRun(shown.id, shown.records, now);
      const entry = this.runs.get(shown.id);
      if (entry && run.finished) entry.built = run;
    }
    const section: TimelineSection = { runs, run };
    if (selected && recent.some((r) => r.id === selected)) section.selected = selected.slice(0, MAX_ID);
    return section;
  }

  private forgetOldest(): void {
    let oldest: string | undefined;
    let at = Number.POSITIVE_INFINITY;
    for (const [id, run] of this.runs) {
      if (run.startedAt < at) {
        at = run.startedAt;
        oldest = id;
      }
    }
    if (oldest !== undefined) this.runs.delete(oldest);
  }
}

/**
 * The session's cache figures, kept up to date from task changes: each task counts once, by its
 * latest outcome, so a task retried from a miss to a hit moves from one count to the other.
 */
export class CacheTally {
  private readonly outcomes = new Map<string, { hit: boolean; savedMs: number }>();
  /** Summed on read after a change. */
  private figures: CacheFigures | undefined;

  reset(records: readonly TaskRecord[]): void {
    this.outcomes.clear();
    this.figures = undefined;
    for (const r of records) this.observe(r);
  }

  observe(record: TaskRecord): void {
    const outcome = cacheOutcome(record);
    const before = this.outcomes.get(record.id);
    if (!outcome) return;
    if (before && before.hit === outcome.hit && before.savedMs === outcome.savedMs) return;
    this.outcomes.set(record.id, outcome);
    this.figures = undefined;
  }

  read(): CacheFigures {
    if (!this.figures) {
      const f: CacheFigures = { hits: 0, misses: 0, savedMs: 0 };
      for (const o of this.outcomes.values()) {
        if (o.hit) f.hits++;
        else f.misses++;
        f.savedMs += o.savedMs;
      }
      this.figures = f;
    }
    return this.figures;
  }
}
