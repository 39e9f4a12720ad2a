// whenIdle's waiters: woken once nothing is Created, Scheduled or Running. While any wait, the host
// process is kept alive (Clock.hold): a plain Node program awaiting whenIdle must not end because
// the only pending work waits on a timer or on work outside the process.
import type { TaskLifecycleManager } from '../lifecycle/lifecycle';
import type { Clock } from '../ports';

export class IdleWaiters {
  private readonly waiters: (() => void)[] = [];
  /** Releases the process hold taken while waiters exist. */
  private releaseHold: (() => void) | undefined = undefined;

  constructor(
    private readonly lifecycle: TaskLifecycleManager,
    private readonly clock: Clock,
  ) {}

  isIdle(): boolean {
    const lc = this.lifecycle;
    return lc.countOf('created') + lc.countOf('scheduled') + lc.countOf('running') === 0;
  }

  /** Resolves once idle (at once if idle now, or when `released`). */
  wait(released: boolean): Promise<void> {
    if (released || this.isIdle()) return Promise.resolve();
    if (this.releaseHold === undefined && this.clock.hold !== undefined) this.releaseHold = this.clock.hold();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** After a transition: wakes the waiters when nothing is left to do. */
  check(): void {
    if (this.waiters.length && this.isIdle()) this.release();
  }

  /** Wakes every waiter and drops the process hold. */
  release(): void {
    const release = this.releaseHold;
    this.releaseHold = undefined;
    if (release !== undefined) release();
    const ws = this.waiters.splice(0);
    for (const w of ws) w();
  }
}
