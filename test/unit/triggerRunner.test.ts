import * as assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/model/errors';
import { TriggerRunner, type OnRunningPolicy, type RunHandle, type RunResult, type TriggerState } from '../../src/core/triggers/triggerRunner';
import { ManualClock, settle } from '../support/manualClock';

/** One run the runner started: it ends when the test says so, or when cancelled (unless told to hang on). */
class FakeRun {
  cancelledWith: string | undefined;
  settled = false;
  private resolve!: (value: unknown) => void;
  private reject!: (err: unknown) => void;
  readonly handle: RunHandle;

  constructor(private readonly endsOnCancel: boolean) {
    const done = new Promise<unknown>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.handle = {
      done,
      cancel: async (reason) => {
        this.cancelledWith = reason;
        if (this.endsOnCancel) this.finish({ outcome: 'cancelled', reason });
      },
    };
  }

  finish(result: RunResult | undefined = { outcome: 'completed' }): void {
    this.settled = true;
    this.resolve(result);
  }

  fail(err: Error): void {
    this.settled = true;
    this.reject(err);
  }
}

class FakeRuns {
  readonly runs: FakeRun[] = [];
  endsOnCancel = true;
  readonly start = async (): Promise<RunHandle> => {
    const run = new FakeRun(this.endsOnCancel);
    this.runs.push(run);
    return run.handle;
  };
  get count(): number {
    return this.runs.length;
  }
  last(): FakeRun {
    const run = this.runs[this.runs.length - 1];
    assert.ok(run, 'expected a run to have started');
    return run;
  }
}

function setup(onRunning: OnRunningPolicy = 'restart', debounceMs = 300) {
  const clock = new ManualClock(1_000);
  const runs = new FakeRuns();
  const runner = new TriggerRunner({ debounceMs, onRunning, start: runs.start, clock });
  return { clock, runs, runner };
}

describe('triggerRunner', () => {
  let runner: TriggerRunner | undefined;
  afterEach(() => runner?.dispose());

  describe('debounce', () => {
    it('makes exactly one run of a burst of 1,000 events within the window, after the window of quiet', async () => {
      const s = setup('restart', 300);
      runner = s.runner;
      for (let i = 0; i < 1000; i++) s.runner.fire(`src/f${i}.ts`);
      assert.equal(s.runner.state.pendingSince, 1_000);
      await s.clock.advance(299);
      assert.equal(s.runs.count, 0, 'nothing starts before the window of quiet has passed');
      await s.clock.advance(1);
      assert.equal(s.runs.count, 1);
      await s.clock.advance(10_000);
      assert.equal(s.runs.count, 1, 'the burst makes one run, not one per event');
      assert.equal(s.runner.state.running, true);
      assert.equal(s.runner.state.pendingSince, undefined);
    });

    it('waits for the window after the last event (trailing): events spread over the window keep pushing it', async () => {
      const s = setup('restart', 300);
      runner = s.runner;
      for (let i = 0; i < 5; i++) {
        s.runner.fire('src/a.ts');
        await s.clock.advance(200);
      }
      assert.equal(s.runs.count, 0, 'each event within 300 ms of the previous one restarts the wait');
      await s.clock.advance(99);
      assert.equal(s.runs.count, 0);
      await s.clock.advance(1);
      assert.equal(s.runs.count, 1);
    });

    it('runs a debounce of 0 once for events fired in the same turn', async () => {
      const s = setup('restart', 0);
      runner = s.runner;
      s.runner.fire('a');
      s.runner.fire('b');
      await s.clock.advance(0);
      assert.equal(s.runs.count, 1);
    });

    it('refuses a negative debounce, naming the field and what is allowed', () => {
      const clock = new ManualClock();
      assert.throws(
        () => new TriggerRunner({ debounceMs: -5, onRunning: 'restart', start: new FakeRuns().start, clock }),
        (err: unknown) => err instanceof ValidationError && err.field === 'debounceMs' && /Expected `debounceMs` to be .*got `-5` \(number\)/.test(err.message),
      );
    });
  });

  describe('onRunning', () => {
    it('restart: cancels the running run with the file named, and starts again once it has ended', async () => {
      const s = setup('restart', 100);
      runner = s.runner;
      s.runs.endsOnCancel = false;
      s.runner.fire('src/a.ts');
      await s.clock.advance(100);
      const first = s.runs.last();
      s.runner.fire('src/b.ts');
      await s.clock.advance(100);
      assert.equal(first.cancelledWith, 'Restarted: src/b.ts changed');
      assert.equal(s.runs.count, 1, 'the new run waits until the cancelled one has ended');
      first.finish({ outcome: 'cancelled', reason: 'Restarted: src/b.ts changed' });
      await settle();
      assert.equal(s.runs.count, 2);
      assert.equal(s.runner.state.running, true);
      assert.deepEqual(s.runner.state.lastRun, { at: 1_200, outcome: 'cancelled', reason: 'Restarted: src/b.ts changed' });
    });

    it('restart: further events during the cancellation fold into the one new run', async () => {
      const s = setup('restart', 100);
      runner = s.runner;
      s.runs.endsOnCancel = false;
      s.runner.fire('a');
      await s.clock.advance(100);
      const first = s.runs.last();
      for (const f of ['b', 'c', 'd']) {
        s.runner.fire(f);
        await s.clock.advance(100);
      }
      assert.equal(first.cancelledWith, 'Restarted: b changed', 'cancelled once, by the first event');
      first.finish({ outcome: 'cancelled' });
      await settle();
      await s.clock.advance(1_000);
      assert.equal(s.runs.count, 2);
    });

    it('restart: cancels a run whose start was still under way as soon as it has started', async () => {
      const clock = new ManualClock();
      const run = new FakeRun(true);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let starts = 0;
      runner = new TriggerRunner({
        debounceMs: 10,
        onRunning: 'restart',
        clock,
        start: async () => {
          starts++;
          if (starts === 1) {
            await gate;
            return run.handle;
          }
          return new FakeRun(true).handle;
        },
      });
      runner.fire('a');
      await clock.advance(10);
      runner.fire('b');
      await clock.advance(10);
      assert.equal(starts, 1);
      release();
      await settle();
      await settle();
      assert.equal(run.cancelledWith, 'Restarted: b changed');
      assert.equal(starts, 2);
    });

    it('queue: starts one more run after the current one finishes, however many events came', async () => {
      const s = setup('queue', 100);
      runner = s.runner;
      s.runner.fire('a');
      await s.clock.advance(100);
      const first = s.runs.last();
      for (const f of ['b', 'c', 'd']) {
        s.runner.fire(f);
        await s.clock.advance(100);
      }
      assert.equal(s.runs.count, 1);
      assert.equal(first.cancelledWith, undefined, 'queue never cancels');
      assert.equal(s.runner.state.pendingSince, 1_100, 'a run is owed since the first queued event');
      first.finish();
      await settle();
      assert.equal(s.runs.count, 2, 'exactly one queued run');
      assert.equal(s.runner.state.lastRun?.outcome, 'completed');
      s.runs.last().finish();
      await s.clock.advance(1_000);
      assert.equal(s.runs.count, 2, 'the queued run was the only one');
      assert.equal(s.runner.state.running, false);
    });

    it('skip: ignores events while a run is in progress and says so in the last run', async () => {
      const s = setup('skip', 100);
      runner = s.runner;
      s.runner.fire('a');
      await s.clock.advance(100);
      const first = s.runs.last();
      s.runner.fire('src/b.ts');
      await s.clock.advance(100);
      assert.equal(first.cancelledWith, undefined);
      assert.equal(s.runs.count, 1);
      assert.equal(s.runner.state.lastRun?.outcome, 'skipped');
      assert.match(s.runner.state.lastRun?.reason ?? '', /src\/b\.ts/);
      first.finish();
      await s.clock.advance(1_000);
      assert.equal(s.runs.count, 1, 'the skipped event is not run later');
      assert.equal(s.runner.state.lastRun?.outcome, 'completed');
      s.runner.fire('c');
      await s.clock.advance(100);
      assert.equal(s.runs.count, 2, 'once idle, an event runs again');
    });
  });

  describe('pause and resume', () => {
    it('drops events while paused, the pending one too, and does not replay them on resume', async () => {
      const s = setup('restart', 100);
      runner = s.runner;
      s.runner.fire('a');
      s.runner.pause();
      assert.equal(s.runner.state.paused, true);
      assert.equal(s.runner.state.pendingSince, undefined);
      s.runner.fire('b');
      await s.clock.advance(1_000);
      assert.equal(s.runs.count, 0);
      s.runner.resume();
      assert.equal(s.runner.state.paused, false);
      await s.clock.advance(1_000);
      assert.equal(s.runs.count, 0, 'resume does not replay');
      s.runner.fire('c');
      await s.clock.advance(100);
      assert.equal(s.runs.count, 1);
    });

    it('lets a run in progress finish when paused, and drops its queued successor', async () => {
      const s = setup('queue', 100);
      runner = s.runner;
      s.runner.fire('a');
      await s.clock.advance(100);
      s.runner.fire('b');
      await s.clock.advance(100);
      s.runner.pause();
      const first = s.runs.last();
      assert.equal(first.cancelledWith, undefined);
      first.finish();
      await s.clock.advance(1_000);
      assert.equal(s.runs.count, 1);
      assert.equal(s.runner.state.running, false);
    });
  });

  describe('dispose', () => {
    it('clears its timer and never starts afterwards, not even a queued run', async () => {
      const s = setup('queue', 100);
      runner = s.runner;
      s.runner.fire('a');
      await s.clock.advance(100);
      s.runner.fire('b');
      await s.clock.advance(100);
      s.runner.fire('c');
      s.runner.dispose();
      assert.equal(s.clock.timerCount, 0);
      s.runs.last().finish();
      s.runner.fire('d');
      await s.clock.advance(1_000);
      assert.equal(s.runs.count, 1);
    });
  });

  describe('a failing run', () => {
    let unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    beforeEach(() => {
      unhandled = [];
      process.on('unhandledRejection', onUnhandled);
    });
    afterEach(() => process.off('unhandledRejection', onUnhandled));

    it('records a start() that rejects as the last run failed, with its message, and runs again on the next event', async () => {
      const clock = new ManualClock(5);
      let calls = 0;
      runner = new TriggerRunner({
        debounceMs: 10,
        onRunning: 'restart',
        clock,
        start: async () => {
          calls++;
          throw new Error('Expected a workflow name, one of `build`, got "nope"');
        },
      });
      runner.fire('a');
      await clock.advance(10);
      await settle();
      assert.deepEqual(runner.state.lastRun, { at: 15, outcome: 'failed', reason: 'Expected a workflow name, one of `build`, got "nope"' });
      assert.equal(runner.state.running, false);
      runner.fire('b');
      await clock.advance(10);
      assert.equal(calls, 2);
      assert.deepEqual(unhandled, []);
    });

    it('records a start() that throws synchronously, and a run whose done rejects, as failed', async () => {
      const clock = new ManualClock();
      runner = new TriggerRunner({
        debounceMs: 10,
        onRunning: 'restart',
        clock,
        start: () => {
          throw new Error('sync boom');
        },
      });
      runner.fire('a');
      await clock.advance(10);
      assert.equal(runner.state.lastRun?.outcome, 'failed');
      assert.equal(runner.state.lastRun?.reason, 'sync boom');

      const s = setup('restart', 10);
      s.runner.fire('a');
      await s.clock.advance(10);
      s.runs.last().fail(new Error('task `build` failed'));
      await settle();
      assert.equal(s.runner.state.lastRun?.outcome, 'failed');
      assert.equal(s.runner.state.lastRun?.reason, 'task `build` failed');
      s.runner.dispose();
      assert.deepEqual(unhandled, []);
    });

    it('takes the outcome a run reports (failed, cancelled) from what done resolves with', async () => {
      const s = setup('restart', 10);
      runner = s.runner;
      s.runner.fire('a');
      await s.clock.advance(10);
      s.runs.last().finish({ outcome: 'failed', reason: '1 of 3 tasks failed' });
      await settle();
      assert.deepEqual(s.runner.state.lastRun, { at: 1_010, outcome: 'failed', reason: '1 of 3 tasks failed' });
    });
  });

  describe('state', () => {
    it('tells listeners of each change: pending, running, finished', async () => {
      const s = setup('restart', 10);
      runner = s.runner;
      const seen: TriggerState[] = [];
      s.runner.onDidChange((st) => seen.push(st));
      s.runner.fire('a');
      s.runner.fire('b');
      await s.clock.advance(10);
      s.runs.last().finish();
      await settle();
      assert.deepEqual(
        seen.map((st) => [st.pendingSince !== undefined, st.running, st.lastRun?.outcome]),
        [
          [true, false, undefined],
          [false, true, undefined],
          [false, false, 'completed'],
        ],
      );
    });
  });
});
