// Disposable, Event and Emitter shaped like VS Code's, so the extension can hand core events
// to its API unchanged and the core never needs 'vscode'.

export interface Disposable {
  dispose(): void;
}

/** A function that subscribes a listener and returns the subscription, as in VS Code. */
export type Event<T> = (listener: (e: T) => unknown, thisArgs?: unknown, disposables?: Disposable[]) => Disposable;

export function toDisposable(fn: () => void): Disposable {
  let done = false;
  return {
    dispose() {
      if (!done) {
        done = true;
        fn();
      }
    },
  };
}

/**
 * Delivers each event to every listener registered when `fire` starts. A listener that throws does
 * not stop the others; its error goes to `onListenerError`. Owners pass one that reports where their
 * users look (the orchestrator: onDidWarn, LISTENER_FAILED); console.error is only the default of an
 * emitter nobody gave one, and the last resort when the handler itself throws.
 */
export class Emitter<T> {
  private listeners: ((e: T) => unknown)[] = [];
  private disposed = false;

  constructor(private readonly onListenerError: (err: unknown) => void = (err) => console.error(err)) {}

  readonly event: Event<T> = (listener, thisArgs, disposables) => {
    if (this.disposed) return toDisposable(() => undefined);
    const bound = thisArgs === undefined ? listener : listener.bind(thisArgs);
    // Copy on write: a fire in progress keeps iterating the array it started with.
    this.listeners = [...this.listeners, bound];
    const d = toDisposable(() => {
      this.listeners = this.listeners.filter((l) => l !== bound);
    });
    disposables?.push(d);
    return d;
  };

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  fire(e: T): void {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i]!(e);
      } catch (err) {
        try {
          this.onListenerError(err);
        } catch (handlerErr) {
          console.error(handlerErr);
        }
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    this.listeners = [];
  }
}
