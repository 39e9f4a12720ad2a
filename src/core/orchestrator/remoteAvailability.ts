// What a remote backend tells the orchestrator, and what it does with it. While the backend is
// unavailable (its server down, not yet connected), the dispatcher starts nothing new: ready tasks
// wait in Scheduled, in their order, and go once it is back. Invariants: the hold is taken at most
// once and released exactly when it was taken, whatever the order and number of the backend's
// availability events; every report hook of the port is set before its first start.
import type { ReadyInfo } from '../ports';
import type { TaskRecord } from '../model/model';
import type { RemoteExecution } from '../execution/routedExecution';
import type { Disposable } from '../util/events';
import type { Dispatcher } from './dispatcher';

/** Where the orchestrator takes a remote port's reports: see RemoteExecution.onReady, onWorker and onStarted. */
export interface RemoteReports {
  ready(task: TaskRecord, info: ReadyInfo | undefined): void;
  worker(task: TaskRecord, worker: string): void;
  started(task: TaskRecord): void;
}

/** Sets the port's report hooks: readiness seen where an attempt runs, its worker's name, a worker taking a queued attempt. */
export function takeReports(remote: RemoteExecution, to: RemoteReports): void {
  remote.onReady = (task, info) => to.ready(task, info);
  remote.onWorker = (task, worker) => to.worker(task, worker);
  remote.onStarted = (task) => to.started(task);
}

export function holdWhileUnavailable(remote: RemoteExecution, dispatcher: Dispatcher): Disposable | undefined {
  let held = false;
  const apply = (available: boolean): void => {
    if (available === !held) return;
    held = !available;
    if (held) {
      dispatcher.holds++;
    } else {
      dispatcher.holds--;
      dispatcher.dispatch();
    }
  };
  const subscription = remote.onDidChangeAvailability?.(apply);
  apply(remote.available !== false);
  return subscription;
}
