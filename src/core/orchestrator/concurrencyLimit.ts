// The dispatcher's concurrency limit, from the setting (createOrchestrator's `concurrency`,
// setConcurrency). A setting >= 1 is the limit as given. 0, the default, is automatic: one slot per
// CPU of this machine (its local attempts), plus the live slots of a remote fleet that reports them
// (RemoteExecution.slots: the workers' concurrency summed), so a worker joining the fleet adds work
// at once and one leaving or draining takes its slots away, with no setting touched.
// Invariants: while automatic, the limit is defaultConcurrency() + the remote's latest slots (capped
// at LIMITS.concurrency); a limit given as a number never follows the fleet; each change of the
// limit goes to `apply` once.
import { LIMITS } from '../model/limits';
import type { RemoteExecution } from '../execution/routedExecution';
import type { Disposable } from '../util/events';
import { defaultConcurrency } from './options';

export class ConcurrencyLimit implements Disposable {
  private current: number;
  private readonly subscription: Disposable | undefined;
  /** This machine's CPUs (defaultConcurrency), read once: every status read and fleet change uses them. */
  private readonly cpus = defaultConcurrency();

  constructor(
    private setting: number,
    private readonly remote: RemoteExecution | undefined,
    /** Given each new limit (not the first: read `limit`). */
    private readonly apply: (limit: number) => void,
  ) {
    this.current = this.compute();
    this.subscription = remote?.onDidChangeSlots?.(() => this.update());
  }

  /** The limit now. */
  get limit(): number {
    return this.current;
  }

  /** What SystemStatus.concurrency says of the limit's parts: `{ automatic: { cpus, fleet } }` while automatic, else nothing. */
  parts(): { automatic?: { cpus: number; fleet: number } } {
    return this.setting > 0 ? {} : { automatic: { cpus: this.cpus, fleet: this.remote?.slots ?? 0 } };
  }

  /** A new setting (checked by the caller): 0 for automatic, else the limit. */
  set(setting: number): void {
    this.setting = setting;
    this.update();
  }

  private compute(): number {
    if (this.setting > 0) return this.setting;
    return Math.min(LIMITS.concurrency, this.cpus + (this.remote?.slots ?? 0));
  }

  private update(): void {
    const next = this.compute();
    if (next === this.current) return;
    this.current = next;
    this.apply(next);
  }

  dispose(): void {
    this.subscription?.dispose();
  }
}
