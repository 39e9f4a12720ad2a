// `--report junit=FILE`: the run as a JUnit XML document, the format CI systems read (Jenkins'
// JUnit plugin, GitLab's `artifacts:reports:junit`, GitHub test-reporter actions). One <testsuite>
// for the run, one <testcase> per task in declared order:
//
//   completed          a passing testcase
//   failed             <failure message="…" type="<error code>">output tail</failure>
//   cancelled          <skipped message="<reason>"/>; so is a task that never finished (interrupted)
//
// Every testcase with output has it in <system-out>. Text and attributes are escaped, characters XML
// 1.0 forbids are dropped and terminal escape sequences stripped, so any task output gives a
// well-formed document. No CDATA: escaping alone covers `]]>`.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { TaskRecord } from '../../core/model/model';
import { stripAnsi } from '../view/stripAnsi';
import { taskLabel, type RunSummary } from '../view/runView';
import { cancelReason, exitText, failureText, firstStartedAt, taskElapsedMs } from '../view/taskText';

export interface JunitOptions {
  /** The <testsuite>'s name and each <testcase>'s classname: the workflows run, say `ci`. */
  suiteName: string;
  /** The machine it ran on, as the `hostname` attribute; left out when not given. */
  hostname?: string;
}

/** The run as a JUnit XML document (UTF-8, ending with a newline). */
export function junitReport(summary: RunSummary, options: JunitOptions): string {
  const tasks = summary.tasks;
  const failures = tasks.filter((t) => t.status === 'failed').length;
  const skipped = tasks.filter((t) => t.status !== 'completed' && t.status !== 'failed').length;
  const time = seconds(summary.elapsedMs);
  const counts = { tests: tasks.length, failures, errors: 0, skipped, time };
  const suite: Record<string, string | number> = { name: options.suiteName, ...counts };
  const start = runStart(summary);
  if (start !== undefined) suite.timestamp = timestamp(start);
  if (options.hostname !== undefined) suite.hostname = options.hostname;

  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: options.suiteName, ...counts })}>`,
    `  <testsuite${attributes(suite)}>`,
  ];
  for (const task of tasks) lines.push(...testcase(task, options.suiteName));
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

/**
 * Writes `xml` to `file` whole or not at all: a temporary file beside it, then a rename over it, so
 * a CI step reading the report never sees half of one. Creates the parent folder.
 */
export async function writeJunitReport(file: string, xml: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(temp, xml, 'utf8');
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

function testcase(task: TaskRecord, classname: string): string[] {
  const elapsed = taskElapsedMs(task, task.finishedAt ?? task.startedAt ?? 0) ?? 0;
  const open = `    <testcase${attributes({ classname, name: taskLabel(task), time: seconds(elapsed) })}`;
  const output = outputTail(task);
  const body: string[] = [];
  if (task.status === 'failed') {
    const type = task.error?.code ?? (exitText(task) === undefined ? 'Error' : 'ExitCode');
    body.push(`      <failure${attributes({ message: failureText(task), type })}>${text(output)}</failure>`);
  } else if (task.status === 'cancelled') {
    body.push(`      <skipped${attributes({ message: cancelReason(task) })}/>`);
  } else if (task.status !== 'completed') {
    body.push(`      <skipped${attributes({ message: `Did not finish: it was ${task.status} when the run ended` })}/>`);
  }
  if (output !== '') body.push(`      <system-out>${text(output)}</system-out>`);
  return body.length === 0 ? [`${open}/>`] : [`${open}>`, ...body, '    </testcase>'];
}

/** The output tail the record kept, as text a report can hold. */
function outputTail(task: TaskRecord): string {
  return stripAnsi(task.result?.output ?? '');
}

/** When the run began: its earliest task's creation (a RunSummary has no start time of its own). */
function runStart(summary: RunSummary): number | undefined {
  let start: number | undefined;
  for (const t of summary.tasks) {
    const at = Math.min(t.createdAt, firstStartedAt(t) ?? t.createdAt);
    if (Number.isFinite(at) && (start === undefined || at < start)) start = at;
  }
  return start;
}

/** Seconds with 3 decimals, as JUnit's `time` attributes hold: `1.234`. Rounded in whole ms, where binary fractions cannot mislead. */
function seconds(ms: number): string {
  return (Math.round(Math.max(0, ms)) / 1000).toFixed(3);
}

/**
 * JUnit's timestamp: ISO 8601 without a zone or fraction (`2026-01-31T12:00:00`), the form the
 * JUnit schema (Ant's junit.xsd) allows; in UTC.
 */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

function attributes(values: Readonly<Record<string, string | number>>): string {
  let out = '';
  for (const [name, value] of Object.entries(values)) out += ` ${name}="${attribute(String(value))}"`;
  return out;
}

// Characters XML 1.0 allows: tab, newline, carriage return and everything from space up, except the
// surrogate code points (a lone surrogate matches here as itself under the `u` flag) and U+FFFE/FFFF.
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text content: escape sequences, forbidden characters gone; `&`, `<` and `>` escaped (`>` keeps `]]>` safe). */
function text(s: string): string {
  return stripAnsi(s).replace(FORBIDDEN, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * An attribute value in double quotes: as text, with the quotes escaped, and tab, newline and
 * carriage return as character references (a parser would turn them into spaces otherwise).
 */
function attribute(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}
