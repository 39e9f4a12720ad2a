// How a task looks in the editor's UI: stage labels, icons per status, durations, tooltips.
// Pure functions of a record and the current time, shared by the tree, quick picks and details.
import * as vscode from 'vscode';
import type { ProblemCounts, TaskRecord, TaskStatus } from '../../core/model/model';
import { formatProblems } from '../executors/taskProblems';
import { STAGE_LABELS } from '../../dashboardProtocol/protocol';
import { formatDuration } from '../../dashboardProtocol/format';
import { cacheDescriptionParts, cacheTooltipRows, cachedOf } from './cacheText';
import { workerOf } from '../../core/lifecycle/taskRecord';

// The labels live with the stages the dashboard's protocol declares, so both sides name them alike.
export { STAGE_LABELS };

const ICONS: Record<TaskStatus, [id: string, color?: string]> = {
  created: ['circle-large-outline'],
  scheduled: ['clock'],
  // `~spin` animates the icon; only running tasks spin.
  running: ['loading~spin', 'charts.blue'],
  completed: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash', 'disabledForeground'],
};

export function statusIcon(status: TaskStatus): vscode.ThemeIcon {
  const [id, color] = ICONS[status];
  return color ? new vscode.ThemeIcon(id, new vscode.ThemeColor(color)) : new vscode.ThemeIcon(id);
}

/** The codicon id of a status, for `$(id)` in labels and Markdown. */
export function statusCodicon(status: TaskStatus): string {
  return ICONS[status][0];
}

/** A completed task restored from the cache rather than run. */
const CACHED_ICON = 'database';

/** Ready is a sub-state of Running (a service, or a background VS Code task between its cycles). */
const READY_ICON = 'broadcast';

function readyOf(record: TaskRecord): NonNullable<TaskRecord['ready']> | undefined {
  return record.status === 'running' ? record.ready : undefined;
}

/** A record's icon: its status's, or Ready's, in the warning colour while its last cycle had errors. */
export function recordIcon(record: TaskRecord): vscode.ThemeIcon {
  if (cachedOf(record)) return new vscode.ThemeIcon(CACHED_ICON, new vscode.ThemeColor('testing.iconPassed'));
  const ready = readyOf(record);
  if (!ready) return statusIcon(record.status);
  const color = (ready.problems?.errors ?? 0) > 0 ? 'list.warningForeground' : 'testing.iconPassed';
  return new vscode.ThemeIcon(READY_ICON, new vscode.ThemeColor(color));
}

/** "Ready", or "Ready · 1 error" / "Ready · 3 errors" once the problems of its last cycle are known. */
export function readyText(ready: NonNullable<TaskRecord['ready']>): string {
  const p = ready.problems;
  return p ? `Ready · ${p.errors} error${p.errors === 1 ? '' : 's'}` : 'Ready';
}

/** A task's duration for the tree and details; none ('') when the clock gives no sensible figure. */
function durationText(ms: number): string {
  return Number.isFinite(ms) && ms >= 0 ? formatDuration(ms) : '';
}

/** Running: elapsed so far; finished: total run time; waiting: time waited so far. */
export function taskDuration(record: TaskRecord, now: number): number {
  if (record.finishedAt !== undefined) return record.finishedAt - (record.startedAt ?? record.createdAt);
  if (record.status === 'running' && record.startedAt !== undefined) return now - record.startedAt;
  return now - record.createdAt;
}

/** The time of the record's last transition: "newest first" in a stage sorts by it. */
export function lastChangeAt(record: TaskRecord): number {
  return record.history[record.history.length - 1]?.at ?? record.createdAt;
}

/** `live`: the counts of a run still going (a background task's), else the record's own. */
export function taskDescription(record: TaskRecord, now: number, live?: ProblemCounts): string {
  // A cache hit leads with what it saved (its own few milliseconds say nothing); `flaky` comes last.
  const cache = cacheDescriptionParts(record);
  const cached = cachedOf(record) !== undefined;
  const parts: string[] = cached ? cache : [];
  const waiting = record.status === 'created' || record.status === 'scheduled';
  const d = cached ? '' : durationText(taskDuration(record, now));
  if (d) parts.push(waiting ? `waiting ${d}` : d);
  const retries = record.spec.retries ?? 0;
  if (record.attempts > 1 || retries > 0) parts.push(`attempt ${Math.max(record.attempts, 1)}/${retries + 1}`);
  if (record.status === 'failed' && record.result?.exitCode !== undefined) parts.push(`exit ${record.result.exitCode}`);
  if (record.restarts) parts.push(`restarted ${record.restarts}×`);
  const ready = readyOf(record);
  if (ready) parts.push(readyText(ready));
  // A Ready task's counts are its last cycle's, in the Ready part; the tooltip has its warnings.
  const problems = record.result?.problems ?? (ready?.problems ? undefined : live);
  if (problems) parts.push(formatProblems(problems));
  if (!cached) parts.push(...cache);
  return parts.join(' · ');
}

function time(at: number): string {
  return new Date(at).toLocaleTimeString();
}

/** What the spec runs, in one line: the command, the VS Code task, or the kind. */
export function taskTarget(record: TaskRecord): string {
  if (record.spec.command !== undefined) return record.spec.command;
  const payload = record.spec.payload;
  if (typeof payload === 'object' && payload !== null && 'label' in payload && typeof payload.label === 'string') return payload.label;
  return record.kind;
}

export function taskTooltip(record: TaskRecord, nameOf: (id: string) => string | undefined, now: number, live?: ProblemCounts): vscode.MarkdownString {
  const md = new vscode.MarkdownString('', true);
  const ready = readyOf(record);
  md.appendMarkdown(`$(${ready ? READY_ICON : cachedOf(record) ? CACHED_ICON : statusCodicon(record.status)}) **`)
    .appendText(record.name)
    .appendMarkdown(`** — ${STAGE_LABELS[record.status]}${ready ? ', Ready' : ''}\n\n`);
  if (record.spec.command !== undefined) {
    md.appendCodeblock(record.spec.command, 'shellscript');
  }
  const rows: [string, string][] = [
    ['Id', record.id],
    ['Kind', record.kind],
  ];
  if (record.spec.command === undefined && record.kind !== 'function') rows.push(['Runs', taskTarget(record)]);
  if (record.spec.cwd) rows.push(['Working directory', record.spec.cwd]);
  rows.push(['Priority', String(record.priority)]);
  const resources = Object.entries(record.spec.resources ?? {});
  if (resources.length) rows.push(['Resources', resources.map(([k, v]) => `${k} × ${v}`).join(', ')]);
  if (record.dependsOn.length) rows.push(['Depends on', record.dependsOn.map((id) => nameOf(id) ?? id).join(', ')]);
  const retries = record.spec.retries ?? 0;
  rows.push(['Attempts', `${record.attempts} of ${retries + 1}`]);
  if (record.spec.timeoutMs) rows.push(['Timeout', formatDuration(record.spec.timeoutMs)]);
  const d = durationText(taskDuration(record, now));
  if (d) rows.push([record.finishedAt !== undefined ? 'Duration' : record.status === 'running' ? 'Elapsed' : 'Waiting', d]);
  // Set by a remote backend: the worker (another process or machine) running or that ran the last attempt.
  const worker = workerOf(record);
  if (worker) rows.push(['Worker', worker]);
  if (record.result?.exitCode !== undefined) rows.push(['Exit code', String(record.result.exitCode)]);
  if (record.result?.signal) rows.push(['Signal', record.result.signal]);
  if (ready) rows.push(['Ready since', time(ready.at)]);
  if (record.restarts) rows.push(['Restarts', String(record.restarts)]);
  const problems = record.result?.problems ?? ready?.problems ?? live;
  if (problems) rows.push(['Problems', formatProblems(problems)]);
  rows.push(...cacheTooltipRows(record));
  if (record.error) rows.push(['Error', record.error.code ? `${record.error.message} (${record.error.code})` : record.error.message]);
  if (record.workflowId) rows.push(['Workflow run', record.workflowId]);
  for (const [k, v] of rows) {
    md.appendMarkdown(`**${k}:** `).appendText(v).appendMarkdown('  \n');
  }
  if (record.history.length) {
    md.appendMarkdown('\n**History**\n\n');
    for (const h of record.history.slice(-12)) {
      md.appendMarkdown(`- ${time(h.at)} $(${statusCodicon(h.status)}) ${STAGE_LABELS[h.status]}`);
      if (h.reason) md.appendMarkdown(' — ').appendText(h.reason);
      md.appendMarkdown('\n');
    }
  }
  return md;
}
