// While a remote backend is unavailable (its server down, not yet connected), the dispatcher starts
// nothing new: ready tasks wait in Scheduled, in their order, and go once it is back. Invariant: the
// hold is taken at most once and released exactly when it was taken, whatever the order and number
// of the backend's availability events.
import type { RemoteExecution } from '../execution/routedExecution';
import type { Disposable } from '../util/events';
import type { Dispatcher } from './dispatcher';

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
