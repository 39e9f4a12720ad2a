// Live output of one attempt on a worker, batched into job progress (`{ output }`, protocol.ts).
// Invariants: chunks leave in the order they came, at most one progress write per `intervalMs`, one
// write in flight at a time; `flush()` resolves once everything written so far has been sent, so a
// job reports all its output before its outcome; a `post`ed progress (`{ ready }`) leaves after the
// output pushed before it and before the output pushed after it.
import type { JobProgress } from './protocol';

export const OUTPUT_BATCH_MS = 100;

export class OutputBatcher {
  private buffer = '';
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

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
    this.chain = this.chain.then(() => this.send({ output })).catch(this.onError);
  }

  /** Sends what is buffered now, then `progress`, in the same order as every other write. */
  post(progress: JobProgress): Promise<void> {
    void this.flush();
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
