// The orchestrator's warnings: kept (the last 100, for start-up and later reads) and fired on
// onDidWarn. A listener that throws elsewhere is reported here (LISTENER_FAILED); one of onDidWarn
// itself is only kept, so a throwing warning listener cannot feed itself.
import { Emitter, type Event } from '../util/events';
import type { OrchestratorWarning } from './orchestratorTypes';

const KEPT = 100;

export class Warnings {
  /** The last warnings, oldest first. */
  readonly list: OrchestratorWarning[] = [];
  private readonly emitter = new Emitter<OrchestratorWarning>((err) => this.keep(listenerWarning(err)));
  readonly event: Event<OrchestratorWarning> = this.emitter.event;

  readonly warn = (w: OrchestratorWarning): void => {
    this.keep(w);
    if (this.emitter.hasListeners) this.emitter.fire(w);
  };

  /** What a listener threw, as a warning. */
  readonly listenerFailed = (err: unknown): void => this.warn(listenerWarning(err));

  dispose(): void {
    this.emitter.dispose();
  }

  private keep(w: OrchestratorWarning): void {
    if (this.list.length >= KEPT) this.list.shift();
    this.list.push(w);
  }
}

/** What a listener threw, as a warning. Never throws itself (the value may be a hostile Proxy). */
function listenerWarning(err: unknown): OrchestratorWarning {
  let detail: string;
  try {
    detail = err instanceof Error ? err.message : String(err);
  } catch {
    detail = `a ${typeof err} that cannot be read`;
  }
  return { code: 'LISTENER_FAILED', message: `A listener threw: ${detail}` };
}
