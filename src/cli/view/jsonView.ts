// `--json`: every event of the run as one line of JSON (the format is jsonEvents.ts). Nothing else
// is written to the stream: no colour, no summary text; a tool reads each line with JSON.parse.
import type { TaskRecord, TaskStatus } from '../../core/model/model';
import { systemClock, type Clock } from '../../core/ports';
import type { RunEvent, RunEventTask, TaskTransitionEvent } from './jsonEvents';
import type { RunStart, RunSummary, RunView } from './runView';
import { taskElapsedMs } from './taskText';
import { workerOf } from '../../core/lifecycle/taskRecord';

export interface JsonViewOptions {
  /** The time of events that are not transitions (a transition carries its own); default the system clock. */
  clock?: Clock;
}

export class JsonView implements RunView {
  private readonly clock: Clock;
  /** The run's tasks by id, for the keys a dependency or an output event is named by. */
  private readonly records = new Map<string, TaskRecord>();

  constructor(
    private readonly stream: NodeJS.WritableStream,
    options: JsonViewOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  start(run: RunStart): void {
    for (const r of run.tasks) this.records.set(r.id, r);
    this.emit({
      type: 'run.started',
      time: this.now(),
      workflows: [...run.workflows],
      concurrency: run.concurrency,
      pools: { ...run.pools },
      tasks: run.tasks.map((r) => this.task(r)),
    });
  }

  change(record: TaskRecord, from: TaskStatus | undefined): void {
    this.records.set(record.id, record);
    this.emit(this.transition(record, from));
  }

  ready(record: TaskRecord): void {
    this.records.set(record.id, record);
    const problems = record.ready?.problems;
    this.emit({
      type: 'task.ready',
      time: this.now(),
      id: record.id,
      key: record.spec.key ?? null,
      name: record.name,
      ...(problems ? { problems: { ...problems } } : {}),
    });
  }

  output(id: string, chunk: string): void {
    this.emit({ type: 'task.output', time: this.now(), id, key: this.records.get(id)?.spec.key ?? null, chunk });
  }

  warn(message: string): void {
    this.emit({ type: 'warning', time: this.now(), message });
  }

  finish(summary: RunSummary): Promise<void> {
    const line = serialise({
      type: 'run.finished',
      time: this.now(),
      exitCode: summary.exitCode,
      interrupted: summary.interrupted,
      elapsedMs: summary.elapsedMs,
      counts: { ...summary.counts },
      cached: summary.cached,
      savedMs: summary.savedMs,
    });
    // The write callback runs once this line, and so every line before it, has been handed to the OS.
    return new Promise((resolve) => this.stream.write(line, () => resolve()));
  }

  private task(r: TaskRecord): RunEventTask {
    return {
      id: r.id,
      key: r.spec.key ?? null,
      name: r.name,
      kind: r.kind,
      dependsOn: r.dependsOn.map((id) => this.records.get(id)?.spec.key ?? id),
      resources: { ...(r.spec.resources ?? {}) },
      status: r.status,
    };
  }

  private transition(r: TaskRecord, from: TaskStatus | undefined): TaskTransitionEvent {
    const last = r.history.at(-1);
    // The record's own time of the transition when its history has it; the clock's otherwise.
    const at = last !== undefined && last.status === r.status ? last.at : this.clock.now();
    const event: TaskTransitionEvent = {
      type: `task.${r.status}`,
      time: new Date(at).toISOString(),
      id: r.id,
      key: r.spec.key ?? null,
      name: r.name,
      status: r.status,
      from: from ?? null,
      attempt: r.attempts,
    };
    if (last?.reason !== undefined && last.status === r.status) event.reason = last.reason;
    // An attempt's end: completed, failed, or a retry (Running -> Scheduled).
    const ended = r.status === 'completed' || r.status === 'failed' || (r.status === 'scheduled' && from === 'running');
    if (ended && r.result?.exitCode !== undefined) event.exitCode = r.result.exitCode;
    if (ended && r.result?.signal !== undefined) event.signal = r.result.signal;
    // A cancelled attempt's worker too, once its backend knew it.
    const worker = workerOf(r);
    if ((ended || r.status === 'cancelled') && worker !== undefined) event.worker = worker;
    if (r.status === 'completed' && r.result?.cached !== undefined) {
      event.cached = true;
      event.savedMs = r.result.cached.savedMs;
    }
    if ((r.status === 'completed' || r.status === 'failed') && r.result?.flaky === true) event.flaky = true;
    if ((r.status === 'failed' || r.status === 'scheduled') && r.error !== undefined) {
      event.error = r.error.code === undefined ? { message: r.error.message } : { message: r.error.message, code: r.error.code };
    }
    if (r.status === 'completed' || r.status === 'failed' || r.status === 'cancelled') {
      const duration = taskElapsedMs(r, at);
      if (duration !== undefined) event.durationMs = duration;
    }
    return event;
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private emit(event: RunEvent): void {
    this.stream.write(serialise(event));
  }
}

function serialise(event: RunEvent): string {
  return `${JSON.stringify(event)}\n`;
}
