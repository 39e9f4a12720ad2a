// Plain lines for a log that is not a terminal (CI, a pipe, a file): no cursor movement and nothing
// redrawn; every line about a task starts with its label in brackets, and lines appear in the order
// things happened. A task's output is written line by line as it comes; a line still unfinished
// waits in a per-task buffer until its newline, or until the task finishes, so lines of tasks
// running side by side never mix inside one line.
import picocolors from 'picocolors';
import { isFinished, type TaskRecord, type TaskStatus } from '../../core/model/model';
import { stripAnsi } from './stripAnsi';
import { taskLabel, type RunStart, type RunSummary, type RunView } from './runView';
import { attemptText, cachedText, cancelReason, durationText, failureText, poolsText, readyText, summaryText, taskElapsedMs } from './taskText';
import { workerOf } from '../../core/lifecycle/taskRecord';

export interface PlainViewOptions {
  /**
   * Colours on; default off (a log that is not a terminal rarely renders them). Off, the view writes
   * no escape sequence at all: the tasks' own colour codes are stripped from their output too.
   */
  color?: boolean;
}

/** ` on <worker>` for an attempt a remote worker runs or ran, else nothing. */
function onWorker(record: TaskRecord): string {
  const worker = workerOf(record);
  return worker === undefined ? '' : ` on ${worker}`;
}

/** A buffered unfinished line longer than this is written as it is: a tool printing no newline for 1 MB. */
const MAX_PARTIAL_LINE = 64 * 1024;

export class PlainView implements RunView {
  private readonly colors: ReturnType<typeof picocolors.createColors>;
  private readonly color: boolean;
  private readonly records = new Map<string, TaskRecord>();
  /** Each task's unfinished last line of output. */
  private readonly partial = new Map<string, string>();

  constructor(
    private readonly stream: NodeJS.WritableStream,
    options: PlainViewOptions = {},
  ) {
    this.color = options.color ?? false;
    this.colors = picocolors.createColors(this.color);
  }

  start(run: RunStart): void {
    for (const r of run.tasks) this.records.set(r.id, r);
    const what = run.workflows.length > 0 ? run.workflows.join(', ') : 'tasks';
    const pools = Object.entries(run.pools).map(([pool, capacity]) => `${pool}×${capacity}`);
    const limits = [`concurrency ${run.concurrency}${run.automatic ? ' (auto)' : ''}`, ...(pools.length > 0 ? [`pools ${pools.join(' ')}`] : [])].join(', ');
    this.write(`run ${what}: ${run.tasks.length} task${run.tasks.length === 1 ? '' : 's'}, ${limits}\n`);
    // A resumed run starts with tasks that finished before (or that recovery failed): said once each.
    for (const r of run.tasks) if (isFinished(r.status)) this.change(r, undefined);
  }

  change(record: TaskRecord, from: TaskStatus | undefined): void {
    this.records.set(record.id, record);
    const c = this.colors;
    let text: string | undefined;
    switch (record.status) {
      case 'running': {
        const pools = poolsText(record);
        text = `started (${attemptText(record) ?? `attempt ${record.attempts}`})${pools === undefined ? '' : ` ${pools}`}`;
        break;
      }
      case 'scheduled':
        // Running -> Scheduled is a retry: the attempt that failed, and the one that comes next.
        if (from === 'running') text = c.yellow(`retrying (attempt ${record.attempts + 1}/${(record.spec.retries ?? 0) + 1}) after: ${failureText(record)}`);
        break;
      case 'completed':
        text = c.green(cachedText(record) ?? `completed in ${durationText(taskElapsedMs(record, record.finishedAt ?? 0) ?? 0)}${onWorker(record)}`);
        break;
      case 'failed': {
        const elapsed = taskElapsedMs(record, record.finishedAt ?? 0);
        text = c.red(`failed${elapsed === undefined ? '' : ` in ${durationText(elapsed)}`}${onWorker(record)}: ${failureText(record)}`);
        break;
      }
      case 'cancelled':
        text = c.yellow(`cancelled${onWorker(record)}: ${cancelReason(record)}`);
        break;
      case 'created':
        break;
    }
    if (text === undefined) return;
    // What the task printed comes before what is said about how it ended.
    this.write(this.flushPartial(record.id) + `${this.prefix(record)} ${text}\n`);
  }

  ready(record: TaskRecord): void {
    this.records.set(record.id, record);
    this.write(this.flushPartial(record.id) + `${this.prefix(record)} ${this.colors.green(readyText(record))}\n`);
  }

  output(id: string, chunk: string): void {
    const record = this.records.get(id);
    const label = record === undefined ? id : taskLabel(record);
    const text = (this.partial.get(id) ?? '') + chunk;
    const end = text.lastIndexOf('\n');
    let rest = end < 0 ? text : text.slice(end + 1);
    let out = end < 0 ? '' : this.lines(label, text.slice(0, end));
    if (rest.length > MAX_PARTIAL_LINE) {
      out += this.lines(label, rest);
      rest = '';
    }
    if (rest === '') this.partial.delete(id);
    else this.partial.set(id, rest);
    if (out !== '') this.write(out);
  }

  warn(message: string): void {
    this.write(this.colors.yellow(`warning: ${message}`) + '\n');
  }

  finish(summary: RunSummary): Promise<void> {
    let out = '';
    for (const id of [...this.partial.keys()]) out += this.flushPartial(id);
    const c = this.colors;
    const outcome = summary.interrupted ? c.yellow('interrupted') : summary.counts.failed > 0 ? c.red('failed') : c.green('done');
    out += `${outcome}: ${summaryText(summary.counts, summary.elapsedMs, summary)} (exit ${summary.exitCode})\n`;
    // The write callback runs once this, and so everything before it, has been handed to the OS.
    return new Promise((resolve) => this.stream.write(this.color ? out : plain(out), () => resolve()));
  }

  private prefix(record: TaskRecord): string {
    return this.colors.cyan(`[${taskLabel(record)}]`);
  }

  /** Each line of `text` (no trailing newline) under the task's label. */
  private lines(label: string, text: string): string {
    const prefix = this.colors.cyan(`[${label}]`);
    let out = '';
    for (const line of text.split('\n')) out += `${prefix} ${visible(line)}\n`;
    return out;
  }

  /** The task's unfinished line as a line of its own, emptied; '' when there is none. */
  private flushPartial(id: string): string {
    const rest = this.partial.get(id);
    if (rest === undefined) return '';
    this.partial.delete(id);
    const record = this.records.get(id);
    return this.lines(record === undefined ? id : taskLabel(record), rest);
  }

  private write(text: string): void {
    this.stream.write(this.color ? text : plain(text));
  }
}

/**
 * `text` without a single escape character: whole sequences stripped, then any stray ESC or CSI
 * left by a sequence cut short (a tool killed mid-write). Without colour, the log is text only.
 */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex -- the stray escape characters are what is removed
  return stripAnsi(text).replace(/[\u001B\u009B]/g, '');
}

/**
 * What a terminal would show of a line: the text after its last carriage return (progress bars
 * redraw a line with `\r`), and without the `\r` of a CRLF ending.
 */
function visible(line: string): string {
  const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
  const cr = trimmed.lastIndexOf('\r');
  return cr < 0 ? trimmed : trimmed.slice(cr + 1);
}
