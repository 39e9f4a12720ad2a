// The extension's stand-in remote port (src/extension/backend/deferredRemote.ts): the conformance
// suite with the backend attached at once and attached late, then what it adds: held attempts.
import * as assert from 'node:assert/strict';
import { TaskEngine } from '../../src/core/engine/engine';
import { LocalExecution } from '../../src/core/execution/localExecution';
import type { ExecutionHandle } from '../../src/core/execution/executionPort';
import type { RemoteExecution } from '../../src/core/execution/routedExecution';
import { CancelledError, OrchestratorError } from '../../src/core/model/errors';
import type { TaskRecord, TaskResult } from '../../src/core/model/model';
import type { Executor } from '../../src/core/ports';
import { DeferredRemote } from '../../src/extension/backend/deferredRemote';
import { executionConformance } from '../support/executionConformance';

/** A LocalExecution dressed as a remote port for `kinds`. */
function remoteOf(executors: Record<string, Executor>, abortSettleMs = 50): RemoteExecution {
  const local = new LocalExecution(new TaskEngine({ executors, abortSettleMs }));
  return {
    kinds: new Set(Object.keys(executors)),
    start: (...args) => local.start(...args),
    cancel: (handle, reason) => local.cancel(handle, reason),
    dispose: () => local.dispose(),
  };
}

executionConformance('DeferredRemote, attached at once', {
  makePort: (executors, abortSettleMs) => {
    const port = new DeferredRemote(Object.keys(executors));
    port.attach(remoteOf(executors, abortSettleMs));
    return port;
  },
});

executionConformance('DeferredRemote, attached after the attempts started', {
  makePort: (executors, abortSettleMs) => {
    const port = new DeferredRemote(Object.keys(executors));
    setTimeout(() => port.attach(remoteOf(executors, abortSettleMs)), 10);
    return port;
  },
});

function record(id: string, kind = 'k'): TaskRecord {
  return { id, name: id, kind, status: 'running', priority: 0, attempts: 1, createdAt: 0, history: [], spec: { name: id, kind }, dependsOn: [] };
}

interface Outcome {
  result: TaskResult | undefined;
  error: unknown;
}

/** A backend that records what reaches it and finishes each attempt when told to. */
function recordingBackend(kinds: string[] = ['k']) {
  const started: string[] = [];
  const cancelled: string[] = [];
  const finish = new Map<string, () => void>();
  const backend: RemoteExecution = {
    kinds: new Set(kinds),
    start: (task, _attempt, _timeoutMs, _run, _onOutput, done) => {
      started.push(task.id);
      finish.set(task.id, () => done({ value: task.id }, undefined, task));
      return { task };
    },
    cancel: async (handle) => {
      cancelled.push(handle.task.id);
    },
    dispose: async () => undefined,
  };
  return { backend, started, cancelled, finish };
}

function start(port: DeferredRemote, id: string): { handle: ExecutionHandle | undefined; outcomes: Outcome[] } {
  const outcomes: Outcome[] = [];
  const handle = port.start(record(id), 1, undefined, undefined, undefined, (result, error) => outcomes.push({ result, error }));
  return { handle, outcomes };
}

describe('DeferredRemote', () => {
  it('holds attempts until a backend is attached, then hands them on in start order', async () => {
    const port = new DeferredRemote(['k']);
    const a = start(port, 'a');
    const b = start(port, 'b');
    assert.ok(a.handle && b.handle);
    assert.equal(port.waiting, 2);
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual([a.outcomes, b.outcomes], [[], []], 'nothing is reported while held');
    const { backend, started, finish } = recordingBackend();
    port.attach(backend);
    assert.deepEqual(started, ['a', 'b']);
    assert.equal(port.waiting, 0);
    finish.get('a')!();
    assert.deepEqual(a.outcomes, [{ result: { value: 'a' }, error: undefined }]);
    // Started after attach: straight to the backend.
    start(port, 'c');
    assert.deepEqual(started, ['a', 'b', 'c']);
  });

  it('is unavailable until a backend is attached, then follows the backend', () => {
    const port = new DeferredRemote(['k']);
    const seen: boolean[] = [];
    port.onDidChangeAvailability((available) => seen.push(available));
    assert.equal(port.available, false);
    const { backend } = recordingBackend();
    let fire: (available: boolean) => void = () => undefined;
    let up = true;
    const followed: RemoteExecution = {
      ...backend,
      get available() {
        return up;
      },
      onDidChangeAvailability: (listener) => {
        fire = listener;
        return { dispose: () => (fire = () => undefined) };
      },
    };
    port.attach(followed);
    assert.equal(port.available, true);
    up = false;
    fire(false);
    assert.equal(port.available, false);
    assert.deepEqual(seen, [true, false]);
  });

  it("has no slots until attached, then the backend's, told before it turns available", async () => {
    const port = new DeferredRemote(['k']);
    const seen: string[] = [];
    port.onDidChangeSlots((slots) => seen.push(`slots ${slots}`));
    port.onDidChangeAvailability((available) => seen.push(`available ${available}`));
    assert.equal(port.slots, 0);
    const { backend } = recordingBackend();
    let slots = 6;
    let fire: (slots: number) => void = () => undefined;
    port.attach({
      ...backend,
      get slots() {
        return slots;
      },
      onDidChangeSlots: (listener) => {
        fire = listener;
        return { dispose: () => (fire = () => undefined) };
      },
    });
    assert.equal(port.slots, 6);
    slots = 2;
    fire(2);
    assert.equal(port.slots, 2);
    assert.deepEqual(seen, ['slots 6', 'available true', 'slots 2']);
    await port.dispose();
    fire(9);
    assert.deepEqual(seen.length, 3, 'nothing followed after dispose');
  });

  it('holds a re-attachment until the backend is attached, then follows it there; detach lets it go on', async () => {
    const port = new DeferredRemote(['k']);
    const outcomes: Outcome[] = [];
    const followed: string[] = [];
    let detached = false;
    const handle = port.reattach(record('r'), 2, undefined, (result, error) => outcomes.push({ result, error }));
    assert.ok(handle);
    const { backend } = recordingBackend();
    port.attach({
      ...backend,
      reattach: (task, attempt, _onOutput, done) => {
        followed.push(`${task.id}.${attempt}`);
        queueMicrotask(() => done({ worker: 'w' }, undefined, task));
        return { task };
      },
      detach: async () => {
        detached = true;
      },
    });
    assert.deepEqual(followed, ['r.2']);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(outcomes, [{ result: { worker: 'w' }, error: undefined }]);
    await port.detach();
    assert.equal(detached, true);
  });

  it("stands for a backend that queues (startsLater), forwards its starts, and hands a held resume on as the backend's resume", () => {
    const port = new DeferredRemote(['k'], { startsLater: true });
    assert.equal(port.startsLater, true);
    assert.equal(new DeferredRemote(['k']).startsLater, false);
    const resumed: string[] = [];
    port.resume(record('held'), 3, undefined, undefined, undefined, () => undefined);
    const { backend, started } = recordingBackend();
    const target: RemoteExecution = {
      ...backend,
      resume: (task, attempt) => {
        resumed.push(`${task.id}.${attempt}`);
        return { task };
      },
    };
    port.attach(target);
    assert.deepEqual(resumed, ['held.3']);
    assert.deepEqual(started, [], 'resumed, not started');
    port.resume(record('later'), 1, undefined, undefined, undefined, () => undefined);
    assert.deepEqual(resumed, ['held.3', 'later.1']);
    const seen: string[] = [];
    port.onStarted = (task) => seen.push(task.id);
    target.onStarted?.(record('held'));
    assert.deepEqual(seen, ['held']);
  });

  it('cancels a held attempt without it ever reaching the backend', async () => {
    const port = new DeferredRemote(['k']);
    const a = start(port, 'a');
    const b = start(port, 'b');
    await port.cancel(a.handle!, 'not wanted');
    assert.equal(a.outcomes.length, 1);
    assert.ok(a.outcomes[0]!.error instanceof CancelledError);
    assert.equal((a.outcomes[0]!.error as Error).message, 'not wanted');
    const { backend, started, cancelled } = recordingBackend();
    port.attach(backend);
    assert.deepEqual(started, ['b']);
    // Cancelling a forwarded attempt reaches the backend with its own handle.
    await port.cancel(b.handle!);
    assert.deepEqual(cancelled, ['b']);
  });

  it('reports held attempts cancelled on dispose, and refuses starts after it', async () => {
    const port = new DeferredRemote(['k']);
    const a = start(port, 'a');
    await port.dispose();
    assert.ok(a.outcomes[0]!.error instanceof CancelledError);
    const late = start(port, 'late');
    assert.equal(late.handle, undefined);
    assert.equal(late.outcomes.length, 0, 'never reported inside start');
    await Promise.resolve();
    assert.ok(late.outcomes[0]!.error instanceof OrchestratorError);
    assert.equal((late.outcomes[0]!.error as OrchestratorError).code, 'DISPOSED');
  });

  it('refuses a backend that does not run every kind it stands for', () => {
    const port = new DeferredRemote(['shell', 'k']);
    assert.throws(() => port.attach(recordingBackend(['k']).backend), /Expected the backend to run the kinds shell, k; it lacks shell/);
    assert.equal(port.attached, false);
  });
});
