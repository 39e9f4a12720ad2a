// The live terminal view: a region at the bottom of a TTY redrawn in place, a row per task and a
// summary line, drawn by log-update (it owns every cursor movement; colours come from picocolors).
// What must stay readable after the run (a failed task's whole output, warnings) is written above
// the region: clear the region, write the text, draw the region again below it.
//
// Invariants: the region never has more lines than the terminal has rows, nor a row wider than its
// columns (log-update would wrap it and then erase the wrong number of lines); changes are drawn
// at most once a tick, a timer runs only while a task runs or a drawing is due, and none is left
// after finish().
import { createLogUpdate } from 'log-update';
import picocolors from 'picocolors';
import { OutputTail } from '../../core/executors/outputTail';
import type { TaskRecord, TaskStatus } from '../../core/model/model';
import { systemClock, type Clock } from '../../core/ports';
import { taskLabel, type RunStart, type RunSummary, type RunView } from './runView';
import { attemptText, cachedText, countStatuses, durationText, failureText, poolsText, summaryText, taskElapsedMs } from './taskText';

/** A writable terminal: process.stdout, or a fake with the same fields in tests. */
export interface TerminalStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  /** Width in characters; 80 when unknown or 0 (a pseudo-terminal with no window size). */
  columns?: number;
  /** Height in lines; 24 when unknown or 0. */
  rows?: number;
}

/**
 * `stream` as log-update measures it: a size of 0 (a pseudo-terminal nobody sized, as under
 * script(1) or some CI runners) counts as unknown, else log-update would cut every frame to nothing.
 */
function measured(stream: TerminalStream): NodeJS.WriteStream {
  return {
    isTTY: stream.isTTY,
    get columns() {
      return stream.columns || DEFAULT_COLUMNS;
    },
    get rows() {
      return stream.rows || DEFAULT_ROWS;
    },
    write: (chunk: string) => stream.write(chunk),
  } as unknown as NodeJS.WriteStream;
}

export interface LiveViewOptions {
  /** Colours on; default true (the live view runs on a TTY; `--no-color` turns them off). */
  color?: boolean;
  /** Keep the cursor visible; default false (hidden while the region is drawn, shown at finish). */
  showCursor?: boolean;
  /** Time of the rows' elapsed column and of the redraw timer; default the system clock. */
  clock?: Clock;
  /** Redraw period while a task runs, ms; default 150. */
  tickMs?: number;
  /** Output kept per task for printing a failure, characters; default 1 MiB (1,048,576). */
  outputLimit?: number;
}

export const LIVE_OUTPUT_LIMIT = 1024 * 1024;
const DEFAULT_TICK_MS = 150;
const DEFAULT_COLUMNS = 80;
const DEFAULT_ROWS = 24;
/** The characters of a label kept before the details of its row give way. */
const MIN_LABEL = 8;

const SYMBOL: Readonly<Record<TaskStatus, string>> = {
  created: '·',
  scheduled: '○',
  running: '●',
  completed: '✔',
  failed: '✖',
  cancelled: '⊘',
};
/** The status word as a row shows it; padded to the longest so the labels line up. */
const WORD: Readonly<Record<TaskStatus, string>> = {
  created: 'waiting',
  scheduled: 'queued',
  running: 'running',
  completed: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};
/** A Running task that is Ready (a service its dependents may use). */
const READY_WORD = 'ready';
const WORD_WIDTH = Math.max(...Object.values(WORD).map((w) => w.length));

type Colors = ReturnType<typeof picocolors.createColors>;

/** A piece of a row: its text and how it is coloured. Rows are cut to width on the plain text, then coloured. */
type Segment = readonly [text: string, paint: (s: string) => string];

export class LiveView implements RunView {
  private readonly log: ReturnType<typeof createLogUpdate>;
  private readonly colors: Colors;
  private readonly clock: Clock;
  private readonly tickMs: number;
  private readonly outputLimit: number;
  /** Every task of the run by id, in the order first seen (the declared order for those in start()). */
  private readonly records = new Map<string, TaskRecord>();
  private readonly outputs = new Map<string, OutputTail>();
  private startedAt: number;
  private timer: unknown;
  /** When the region was last drawn (monotonic ms). */
  private drawnAt = -Infinity;
  private finished = false;

  constructor(
    private readonly stream: TerminalStream,
    options: LiveViewOptions = {},
  ) {
    this.log = createLogUpdate(measured(stream), { showCursor: options.showCursor ?? false });
    this.colors = picocolors.createColors(options.color ?? true);
    this.clock = options.clock ?? systemClock;
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.outputLimit = options.outputLimit ?? LIVE_OUTPUT_LIMIT;
    this.startedAt = this.clock.now();
  }

  start(run: RunStart): void {
    this.startedAt = this.clock.now();
    for (const r of run.tasks) this.records.set(r.id, r);
    this.draw();
  }

  ready(record: TaskRecord): void {
    if (this.finished) return;
    this.records.set(record.id, record);
    this.requestDraw();
  }

  change(record: TaskRecord, from: TaskStatus | undefined): void {
    if (this.finished) return;
    this.records.set(record.id, record);
    if (record.status === 'failed' && from !== 'failed') this.printAbove(this.failureBlock(record));
    else this.requestDraw();
  }

  output(id: string, chunk: string): void {
    if (this.finished) return;
    let tail = this.outputs.get(id);
    if (tail === undefined) this.outputs.set(id, (tail = new OutputTail(this.outputLimit)));
    tail.push(chunk);
  }

  warn(message: string): void {
    if (this.finished) return;
    this.printAbove(this.colors.yellow(`warning: ${message}`) + '\n');
  }

  finish(summary: RunSummary): Promise<void> {
    this.stopTimer();
    for (const r of summary.tasks) this.records.set(r.id, r);
    this.log(this.frame(summary.elapsedMs, summary.counts).join('\n'));
    this.log.done();
    this.finished = true;
    const c = this.colors;
    const outcome = summary.interrupted ? c.yellow('interrupted') : summary.counts.failed > 0 ? c.red('failed') : c.green('done');
    const line = `${outcome}: ${summaryText(summary.counts, summary.elapsedMs, summary)} (exit ${summary.exitCode})\n`;
    // The write callback runs once this line, and so everything before it, has been handed to the OS.
    return new Promise((resolve) => this.stream.write(line, () => resolve()));
  }

  /** The region as it would be drawn now, one string per line (colours included when on). */
  frame(elapsedMs = this.clock.now() - this.startedAt, counts = countStatuses(this.records.values())): string[] {
    const width = Math.max(20, this.stream.columns || DEFAULT_COLUMNS);
    // One line for the summary, one for log-update's trailing newline: the rest is for task rows.
    const capacity = Math.max(1, (this.stream.rows || DEFAULT_ROWS) - 2);
    const all = [...this.records.values()];
    let shown = all;
    let hidden = 0;
    if (all.length > capacity) {
      const running = all.filter((r) => r.status === 'running');
      const rest = all.filter((r) => r.status !== 'running');
      shown = [...running, ...rest].slice(0, capacity - 1);
      hidden = all.length - shown.length;
    }
    const now = this.clock.now();
    const labelWidth = Math.max(0, ...shown.map((r) => charLength(taskLabel(r))));
    const lines = shown.map((r) => this.row(r, now, width, labelWidth));
    if (hidden > 0) lines.push(this.colors.dim(cut(`… ${hidden} more`, width)));
    const full = summaryText(counts, elapsedMs);
    lines.push(this.colors.bold(cut(charLength(full) <= width ? full : compactSummary(counts, elapsedMs), width)));
    return lines;
  }

  private row(record: TaskRecord, now: number, width: number, labelWidth: number): string {
    const c = this.colors;
    const paintStatus = statusPaint(c, record.status);
    const word = record.status === 'running' && record.ready !== undefined ? READY_WORD : WORD[record.status];
    const head = `${SYMBOL[record.status]} ${word.padEnd(WORD_WIDTH)} `;
    const elapsed = taskElapsedMs(record, now);
    // A task restored from the cache ran for no time worth showing: what it saved is shown instead.
    const time = cachedText(record) ?? (elapsed === undefined ? undefined : durationText(elapsed));
    const details = [time, attemptText(record), poolsText(record)].filter((d) => d !== undefined);
    // On a narrow terminal the label keeps a few characters; the details give way from the right
    // (pools, then the attempt, then the time), and the label takes what is left.
    const label = taskLabel(record);
    const minLabel = Math.min(charLength(label), MIN_LABEL);
    let tail = details.map((d) => `  ${d}`).join('');
    while (details.length > 0 && charLength(head) + minLabel + charLength(tail) > width) {
      details.pop();
      tail = details.map((d) => `  ${d}`).join('');
    }
    const room = Math.max(1, width - charLength(head) - charLength(tail));
    const shown = cut(label, room);
    // Padded so the details line up, unless nothing follows.
    const padded = tail === '' ? shown : shown.padEnd(Math.min(labelWidth, room));
    const segments: Segment[] = [
      [head, paintStatus],
      [padded, identity],
      [tail, c.dim],
    ];
    return fit(segments, width);
  }

  private failureBlock(record: TaskRecord): string {
    const c = this.colors;
    const elapsed = taskElapsedMs(record, this.clock.now());
    const took = elapsed === undefined ? '' : ` after ${durationText(elapsed)}`;
    const header = c.red(c.bold(`✖ ${taskLabel(record)} failed${took}: ${failureText(record)}`));
    const output = this.outputOf(record);
    return `${header}\n${output === '' ? c.dim('(no output)\n') : output.endsWith('\n') ? output : `${output}\n`}`;
  }

  /** The task's output as this view received it; the record's tail when none came through output(). */
  private outputOf(record: TaskRecord): string {
    const tail = this.outputs.get(record.id);
    if (tail === undefined) return record.result?.output ?? '';
    const text = tail.toString();
    const cutChars = tail.totalLength - text.length;
    return cutChars > 0 ? `[… ${cutChars} characters cut]\n${text}` : text;
  }

  /** Writes `text` (whole lines) above the region, then draws the region again below it. */
  private printAbove(text: string): void {
    this.log.clear();
    this.stream.write(text);
    this.draw();
  }

  /**
   * Draws now, or at the next tick when the last drawing is younger than a tick: a burst of changes
   * (a thousand tasks scheduled at once) costs one drawing, not one each: a drawing takes
   * milliseconds (log-update wraps every line of the region), a change microseconds.
   */
  private requestDraw(): void {
    const since = this.monotonic() - this.drawnAt;
    if (since >= this.tickMs) this.draw();
    else if (this.timer === undefined) this.timer = this.clock.setTimeout(this.tick, this.tickMs - since);
  }

  /** Draws the region; keeps the timer armed while a task runs, so elapsed times move. */
  private draw(): void {
    this.log(this.frame().join('\n'));
    this.drawnAt = this.monotonic();
    const running = [...this.records.values()].some((r) => r.status === 'running');
    if (running && this.timer === undefined) this.timer = this.clock.setTimeout(this.tick, this.tickMs);
    else if (!running) this.stopTimer();
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (!this.finished) this.draw();
  };

  private monotonic(): number {
    return this.clock.monotonic?.() ?? this.clock.now();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function statusPaint(c: Colors, status: TaskStatus): (s: string) => string {
  switch (status) {
    case 'running':
      return c.cyan;
    case 'completed':
      return c.green;
    case 'failed':
      return c.red;
    case 'cancelled':
      return c.yellow;
    case 'created':
    case 'scheduled':
      return c.dim;
  }
}

/** The summary for a narrow terminal, by the rows' symbols: `●2 ○1 ✔4 ✖0 ⊘0 · 12.5 s`. */
function compactSummary(counts: Readonly<Record<TaskStatus, number>>, elapsedMs: number): string {
  const queued = counts.created + counts.scheduled;
  return `${SYMBOL.running}${counts.running} ${SYMBOL.scheduled}${queued} ${SYMBOL.completed}${counts.completed} ${SYMBOL.failed}${counts.failed} ${SYMBOL.cancelled}${counts.cancelled} · ${durationText(elapsedMs)}`;
}

function identity(s: string): string {
  return s;
}

/**
 * Characters as a terminal counts them, approximately: code points, so an emoji or a CJK character
 * counts 1 where a terminal draws 2. Labels and times are what rows hold; a wide label may then
 * wrap, which log-update's own hard wrap at `columns` keeps drawable.
 */
function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** `s` cut to `width` characters, its last one `…` when cut. */
function cut(s: string, width: number): string {
  if (charLength(s) <= width) return s;
  return [...s].slice(0, Math.max(0, width - 1)).join('') + '…';
}

/** The segments joined and coloured, cut on their plain text to `width`. */
function fit(segments: readonly Segment[], width: number): string {
  let room = width;
  let out = '';
  for (const [text, paint] of segments) {
    if (room <= 0) break;
    const piece = charLength(text) <= room ? text : cut(text, room);
    room -= charLength(piece);
    if (piece !== '') out += paint(piece);
  }
  return out;
}
