// Live output of one attempt on a worker, batched into job progress (`{ output }`, protocol.ts).
// Invariants: chunks leave in the order they came, at most one progress write per `intervalMs`, one
// write in flight at a time; `flush()` resolves once everything written so far has been sent, so a
// job reports all its output before its outcome; a `post`ed progress (`{ ready }`) leaves after the
// output pushed before it and before the output pushed after it. Readiness is sticky: every output
// write after a posted `{ ready }` carries that `ready` beside it (the latest posted), never one
// posted after the output, so the job's progress, which BullMQ keeps as its last value only, still
// says Ready to a coordinator that reads it later (a reload, protocol.ts).
import type { JobProgress, ReadyProgress } from './protocol';

export const OUTPUT_BATCH_MS = 100;

export class OutputBatcher {
  private buffer = '';
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** The last `ready` posted: what every later output write carries. */
  private ready: ReadyProgress['ready'] | undefined;

  constructor(
    private readonly send: (progress: JobProgress) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = OUTPUT_BATCH_MS,
  ) {}

  push(chunk: string): void {
    if (chunk === '') return;
    this.buffer += chunk;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, this.intervalMs);
  }

  private write(): void {
    if (this.buffer === '') return;
    const output = this.buffer;
    this.buffer = '';
    const ready = this.ready;
    this.chain = this.chain.then(() => this.send(ready === undefined ? { output } : { output, ready })).catch(this.onError);
  }

  /** Sends what is buffered now, then `progress`, in the same order as every other write; a `ready` in it sticks. */
  post(progress: JobProgress): Promise<void> {
    void this.flush();
    if ('ready' in progress && progress.ready !== undefined) this.ready = progress.ready;
    this.chain = this.chain.then(() => this.send(progress)).catch(this.onError);
    return this.chain;
  }

  /** Sends what is buffered now and resolves once every write so far has settled. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.write();
    return this.chain;
  }
}
