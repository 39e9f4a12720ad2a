import * as assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { RunEvent, TaskTransitionEvent } from '../../src/cli/view/jsonEvents';
import { JsonView } from '../../src/cli/view/jsonView';
import { LiveView } from '../../src/cli/view/liveView';
import { PlainView } from '../../src/cli/view/plainView';
import { countStatuses } from '../../src/cli/view/taskText';
import { runScenario, scenarioTasks, step, T0, taskRecord } from '../support/cliRunFixture';
import { ManualClock } from '../support/manualClock';

/** A stream that keeps what is written; a terminal of the given size when `tty`. */
class Capture extends Writable {
  readonly chunks: string[] = [];
  isTTY: boolean;
  columns: number;
  rows: number;
  constructor(tty = false, columns = 80, rows = 24) {
    super({ decodeStrings: false });
    this.isTTY = tty;
    this.columns = columns;
    this.rows = rows;
  }
  override _write(chunk: string | Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString());
    done();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

const ESC = '\u001B';

function chars(s: string): number {
  return [...s].length;
}

function liveView(stream: Capture, clock: ManualClock, options: { color?: boolean; outputLimit?: number } = {}): LiveView {
  // showCursor: true so log-update leaves the real stderr's cursor alone.
  return new LiveView(stream, { color: false, showCursor: true, clock, ...options });
}

describe('cli views', () => {
  describe('live view', () => {
    it('draws a row per task with its status, elapsed time, attempt and pools, and a summary line', async () => {
      const clock = new ManualClock(T0);
      const stream = new Capture(true);
      const view = liveView(stream, clock);
      const { build, lint, test, deploy, tasks } = scenarioTasks();
      view.start({ tasks, workflows: ['ci'], concurrency: 2, pools: { cpu: 2 } });
      for (const r of tasks) step(view, clock, r, { type: 'schedule' }, T0);
      step(view, clock, build, { type: 'start' }, T0 + 100);
      step(view, clock, test, { type: 'start' }, T0 + 100);
      step(view, clock, deploy, { type: 'cancel', reason: 'No longer needed' }, T0 + 200);
      clock.set(T0 + 1340);
      const frame = view.frame();
      assert.deepEqual(frame, [
        '● running   build   1.24 s  cpu×1',
        '○ queued    lint',
        '● running   test    1.24 s  attempt 1/3  cpu×1 gpu×2',
        '⊘ cancelled deploy',
        'running 2 · queued 1 · done 0 · failed 0 · cancelled 1 · 1.34 s',
      ]);
      assert.equal(lint.status, 'scheduled');
      assert.ok(!frame.join('\n').includes(ESC), 'no colour when color is off');
      await view.finish({ tasks, counts: countStatuses(tasks), elapsedMs: 1340, exitCode: 1, interrupted: true, cached: 0, savedMs: 0 });
    });

    it('colours the status when colour is on', async () => {
      const clock = new ManualClock(T0);
      const view = liveView(new Capture(true), clock, { color: true });
      const { build, tasks } = scenarioTasks();
      view.start({ tasks: [build], workflows: [], concurrency: 1, pools: {} });
      step(view, clock, build, { type: 'schedule' }, T0);
      step(view, clock, build, { type: 'start' }, T0);
      step(view, clock, build, { type: 'fail', error: { message: 'boom' } }, T0 + 5);
      assert.ok(view.frame()[0]!.includes(`${ESC}[31m✖ failed`), view.frame()[0]);
      await view.finish({ tasks, counts: countStatuses(tasks), elapsedMs: 5, exitCode: 1, interrupted: false, cached: 0, savedMs: 0 });
    });

    it('prints a failed task whole above the region when it fails, once, then the final frame and the summary', async () => {
      const clock = new ManualClock(T0);
      const stream = new Capture(true);
      const { lint } = await runScenario(liveView(stream, clock), clock);
      const text = stream.text;
      const header = '✖ lint failed after 300 ms: Command failed (exit 2)\nsrc/a.ts:1:1 <error> & "quoted"\n';
      assert.equal(text.split(header).length, 2, `the failure is printed once:\n${text}`);
      assert.ok(text.includes('warning: pool `gpu` is busy\n'));
      assert.ok(text.indexOf('warning: pool') < text.indexOf(header), 'warnings and failures appear in the order they came');
      // The last frame stays on screen, and the summary line comes after it.
      const tail = text.slice(text.lastIndexOf('✔ done      build'));
      assert.match(tail, /^✔ done {6}build {3}1\.24 s {2}cpu×1\n✖ failed {4}lint {4}300 ms\n✔ done {6}test {4}2\.50 s {2}attempt 2\/3/);
      assert.ok(tail.endsWith('failed: running 0 · queued 0 · done 2 · failed 1 · cancelled 1 · 2.65 s (exit 1)\n'), tail);
      assert.equal(lint.status, 'failed');
    });

    it('keeps the tail of a long output and says how much was cut', async () => {
      const clock = new ManualClock(T0);
      const stream = new Capture(true);
      const view = liveView(stream, clock, { outputLimit: 10 });
      const r = taskRecord('x', { key: 'x' });
      view.start({ tasks: [r], workflows: [], concurrency: 1, pools: {} });
      step(view, clock, r, { type: 'schedule' }, T0);
      step(view, clock, r, { type: 'start' }, T0);
      view.output('x', 'aaaaaaaaaa');
      view.output('x', 'bbbbb\nccc\n');
      step(view, clock, r, { type: 'fail', error: { message: 'boom' }, result: { exitCode: 3 } }, T0 + 50);
      assert.ok(stream.text.includes('✖ x failed after 50 ms: boom (exit 3)\n[… 10 characters cut]\nbbbbb\nccc\n'), stream.text);
      await view.finish({ tasks: [r], counts: countStatuses([r]), elapsedMs: 50, exitCode: 1, interrupted: false, cached: 0, savedMs: 0 });
    });

    it('cuts every row to the terminal width, the label first', async () => {
      const clock = new ManualClock(T0);
      const view = liveView(new Capture(true, 40, 24), clock);
      const r = taskRecord('x', { key: 'a-very-long-task-label-that-does-not-fit-in-forty-columns', retries: 1, resources: { cpu: 1 } });
      view.start({ tasks: [r], workflows: [], concurrency: 1, pools: {} });
      step(view, clock, r, { type: 'schedule' }, T0);
      step(view, clock, r, { type: 'start' }, T0);
      clock.set(T0 + 2000);
      const frame = view.frame();
      for (const line of frame) assert.ok(chars(line) <= 40, `${chars(line)} > 40: ${line}`);
      assert.equal(frame.at(-1), '●1 ○0 ✔0 ✖0 ⊘0 · 2.00 s', 'the summary in its short form');
      // The pools and the attempt gave way to the label; the time stays.
      assert.equal(frame[0], '● running   a-very-long-task-la…  2.00 s');
      await view.finish({ tasks: [r], counts: countStatuses([r]), elapsedMs: 2000, exitCode: 130, interrupted: true, cached: 0, savedMs: 0 });
    });

    it('shows running tasks first and a `… N more` row when the tasks outnumber the rows', async () => {
      const clock = new ManualClock(T0);
      const stream = new Capture(true, 80, 6);
      const view = liveView(stream, clock);
      const tasks = Array.from({ length: 10 }, (_, i) => taskRecord(`t${i}`, { key: `task${i}` }));
      view.start({ tasks, workflows: [], concurrency: 2, pools: {} });
      for (const r of tasks) step(view, clock, r, { type: 'schedule' }, T0);
      step(view, clock, tasks[7]!, { type: 'start' }, T0);
      step(view, clock, tasks[4]!, { type: 'start' }, T0);
      const frame = view.frame();
      // 6 rows: 4 for tasks (3 and the `more` row), the summary, and log-update's trailing newline.
      assert.deepEqual(
        frame.map((l) => l.replace(/ +/g, ' ')),
        ['● running task4 0 ms', '● running task7 0 ms', '○ queued task0', '… 7 more', 'running 2 · queued 8 · done 0 · failed 0 · cancelled 0 · 0 ms'],
      );
      await view.finish({ tasks, counts: countStatuses(tasks), elapsedMs: 0, exitCode: 130, interrupted: true, cached: 0, savedMs: 0 });
    });

    it('redraws on a timer while a task runs, at most once a tick, and leaves no timer after finish', async () => {
      const clock = new ManualClock(T0);
      const stream = new Capture(true);
      const view = liveView(stream, clock);
      const [a, b] = [taskRecord('a', { key: 'a' }), taskRecord('b', { key: 'b' })];
      view.start({ tasks: [a, b], workflows: [], concurrency: 1, pools: {} });
      step(view, clock, a, { type: 'schedule' }, T0);
      assert.equal(clock.timerCount, 1, 'a change right after a drawing waits for the tick');
      clock.advanceSync(150);
      assert.ok(stream.text.includes('○ queued    a'), 'the tick drew it');
      assert.equal(clock.timerCount, 0, 'nothing runs and nothing is due: no timer');
      clock.advanceSync(1000);
      step(view, clock, a, { type: 'start' }, clock.now());
      assert.ok(stream.text.includes('● running   a  0 ms'), 'a change a tick after the last drawing is drawn at once');
      assert.equal(clock.timerCount, 1, 'a task runs: the timer is armed');
      clock.advanceSync(150);
      assert.ok(stream.text.includes('● running   a  150 ms'), 'the tick redrew the elapsed time');
      assert.equal(clock.timerCount, 1, 'and armed the next tick');
      step(view, clock, a, { type: 'complete' }, clock.now() + 50);
      clock.advanceSync(150);
      assert.ok(stream.text.includes('✔ done      a  200 ms'));
      assert.equal(clock.timerCount, 0, 'nothing runs any more: the timer is gone');
      step(view, clock, b, { type: 'schedule' }, clock.now());
      step(view, clock, b, { type: 'start' }, clock.now());
      assert.equal(clock.timerCount, 1);
      await view.finish({ tasks: [a, b], counts: countStatuses([a, b]), elapsedMs: 1500, exitCode: 130, interrupted: true, cached: 0, savedMs: 0 });
      assert.equal(clock.timerCount, 0, 'finish clears the timer');
      const before = stream.text;
      view.change(b, 'running');
      view.warn('late');
      clock.advanceSync(1000);
      assert.equal(stream.text, before, 'nothing is drawn after finish');
      assert.ok(before.endsWith('interrupted: running 1 · queued 0 · done 1 · failed 0 · cancelled 0 · 1.50 s (exit 130)\n'));
    });

    it('draws a burst of changes once', () => {
      const clock = new ManualClock(T0);
      const stream = new Capture(true);
      const view = liveView(stream, clock);
      const tasks = Array.from({ length: 100 }, (_, i) => taskRecord(`t${i}`, { key: `task${i}` }));
      view.start({ tasks, workflows: [], concurrency: 2, pools: {} });
      for (const r of tasks) step(view, clock, r, { type: 'schedule' }, T0);
      clock.advanceSync(150);
      const summaries = stream.text.split('running 0 · queued 100').length - 1;
      assert.equal(summaries, 2, 'one drawing at the start, one for the hundred changes');
      assert.equal(clock.timerCount, 0);
    });
  });

  describe('plain view', () => {
    it('says an automatic limit is one (it follows the fleet)', () => {
      const stream = new Capture(false);
      new PlainView(stream).start({ tasks: [taskRecord('t1', { key: 'a' })], workflows: ['ci'], concurrency: 6, automatic: true, pools: {} });
      assert.equal(stream.text, 'run ci: 1 task, concurrency 6 (auto)\n');
    });

    it('writes lines prefixed with the task label in the order things happened', async () => {
      const clock = new ManualClock(T0);
      const stream = new Capture(false);
      await runScenario(new PlainView(stream), clock);
      assert.deepEqual(stream.text.split('\n'), [
        'run ci: 4 tasks, concurrency 2, pools cpu×2 gpu×2',
        '[build] started (attempt 1) cpu×1',
        '[test] started (attempt 1/3) cpu×1 gpu×2',
        '[build] compiling',
        '[build] half',
        '[test] test 1 failed',
        '[test] retrying (attempt 2/3) after: Command failed (exit 1)',
        '[build] last line without newline',
        '[build] completed in 1.24 s',
        'warning: pool `gpu` is busy',
        '[lint] started (attempt 1)',
        '[test] started (attempt 2/3) cpu×1 gpu×2',
        '[lint] src/a.ts:1:1 <error> & "quoted"',
        '[lint] failed in 300 ms: Command failed (exit 2)',
        '[deploy] cancelled: Dependency lint failed',
        '[test] completed in 2.50 s',
        'failed: running 0 · queued 0 · done 2 · failed 1 · cancelled 1 · 2.65 s (exit 1)',
        '',
      ]);
    });

    it('writes no escape byte without colour, not even from a task that prints colours', async () => {
      const clock = new ManualClock(T0);
      const stream = new Capture(false);
      const view = new PlainView(stream);
      const r = taskRecord('x', { key: 'x' });
      view.start({ tasks: [r], workflows: [], concurrency: 1, pools: {} });
      step(view, clock, r, { type: 'schedule' }, T0);
      step(view, clock, r, { type: 'start' }, T0);
      view.output('x', `${ESC}[31mred${ESC}[0`);
      view.output('x', `m text\r\nprogress 10%\rprogress 100%\nstray ${ESC} byte\n`);
      step(view, clock, r, { type: 'fail', error: { message: `${ESC}[1mbold message${ESC}[22m` } }, T0 + 10);
      await view.finish({ tasks: [r], counts: countStatuses([r]), elapsedMs: 10, exitCode: 1, interrupted: false, cached: 0, savedMs: 0 });
      assert.ok(!stream.text.includes(ESC), JSON.stringify(stream.text));
      assert.ok(stream.text.includes('[x] red text\n[x] progress 100%\n[x] stray  byte\n[x] failed in 10 ms: bold message\n'), stream.text);
    });

    it('colours when asked to', async () => {
      const clock = new ManualClock(T0);
      const stream = new Capture(false);
      await runScenario(new PlainView(stream, { color: true }), clock);
      assert.ok(stream.text.includes(`${ESC}[31m`));
    });
  });

  describe('json view', () => {
    it('writes one JSON object per line: run.started, every transition in order, run.finished last', async () => {
      const clock = new ManualClock(T0);
      const stream = new Capture(false);
      const { told } = await runScenario(new JsonView(stream, { clock }), clock);
      const lines = stream.text.split('\n');
      assert.equal(lines.pop(), '', 'every line ends with a newline');
      const events = lines.map((l) => JSON.parse(l) as RunEvent);
      assert.deepEqual(
        events.map((e) => e.type),
        ['run.started', ...told, 'run.finished'],
      );
      for (const e of events) assert.equal(e.time, new Date(e.time).toISOString(), 'time is ISO 8601');
      const started = events[0];
      assert.ok(started?.type === 'run.started');
      assert.deepEqual(started.tasks[3], {
        id: 't4',
        key: 'deploy',
        name: 'deploy',
        kind: 'shell',
        dependsOn: ['lint', 'test'],
        resources: {},
        status: 'created',
      });
      assert.deepEqual(events.at(-1), {
        type: 'run.finished',
        time: new Date(T0 + 2650).toISOString(),
        exitCode: 1,
        interrupted: false,
        elapsedMs: 2650,
        counts: { created: 0, scheduled: 0, running: 0, completed: 2, failed: 1, cancelled: 1 },
        cached: 0,
        savedMs: 0,
      });
    });

    it('gives each transition its time, previous status, attempt, and exit code, error and duration where they apply', async () => {
      const clock = new ManualClock(T0);
      const stream = new Capture(false);
      await runScenario(new JsonView(stream, { clock }), clock);
      const events = stream.text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as RunEvent);
      const of = (key: string): TaskTransitionEvent[] =>
        events.filter((e): e is TaskTransitionEvent => e.type.startsWith('task.') && e.type !== 'task.output' && 'key' in e && e.key === key);
      assert.deepEqual(of('lint').at(-1), {
        type: 'task.failed',
        time: new Date(T0 + 1700).toISOString(),
        id: 't2',
        key: 'lint',
        name: 'lint',
        status: 'failed',
        from: 'running',
        attempt: 1,
        reason: 'Command failed',
        exitCode: 2,
        error: { message: 'Command failed', code: 'EXIT' },
        durationMs: 300,
      });
      const retry = of('test').find((e) => e.type === 'task.scheduled' && e.from === 'running');
      assert.deepEqual(
        { attempt: retry?.attempt, exitCode: retry?.exitCode, error: retry?.error, reason: retry?.reason },
        { attempt: 1, exitCode: 1, error: { message: 'Command failed', code: 'EXIT' }, reason: 'Attempt 1 of 3 failed (exit 1); retrying in 250 ms' },
      );
      assert.equal(of('test').at(-1)?.durationMs, 2500, 'a retried task counts from its first start');
      assert.deepEqual(
        of('deploy').map((e) => [e.type, e.from, e.durationMs, e.reason]),
        [
          ['task.created', null, undefined, undefined],
          ['task.scheduled', 'created', undefined, undefined],
          ['task.cancelled', 'scheduled', undefined, 'Dependency lint failed'],
        ],
      );
      const output = events.find((e) => e.type === 'task.output');
      assert.deepEqual(output, { type: 'task.output', time: new Date(T0 + 100).toISOString(), id: 't1', key: 'build', chunk: 'compiling\nha' });
    });
  });
});

describe('cli views: a task restored from the cache', () => {
  /** `build` completed from the cache (its stored run took 1.2 s), `lint` ran; the summary counts the cached one. */
  async function cachedRun(view: PlainView | JsonView | LiveView, clock: ManualClock): Promise<void> {
    const build = taskRecord('t1', { key: 'build' });
    const lint = taskRecord('t2', { key: 'lint' });
    clock.set(T0);
    view.start({ tasks: [build, lint], workflows: ['ci'], concurrency: 2, pools: {} });
    for (const r of [build, lint]) step(view, clock, r, { type: 'schedule' }, T0);
    step(view, clock, build, { type: 'start' }, T0 + 10);
    step(view, clock, lint, { type: 'start' }, T0 + 10);
    const key = 'a'.repeat(64);
    step(view, clock, build, { type: 'complete', result: { exitCode: 0, cached: { key, savedMs: 1200 }, cacheKey: key } }, T0 + 14);
    step(view, clock, lint, { type: 'complete', result: { exitCode: 0 } }, T0 + 510);
    clock.set(T0 + 520);
    const tasks = [build, lint];
    await view.finish({ tasks, counts: countStatuses(tasks), elapsedMs: 520, exitCode: 0, interrupted: false, cached: 1, savedMs: 1200 });
  }

  it('plain lines say `cached · saved 1.2 s` and the summary counts the cached tasks and the time saved', async () => {
    const clock = new ManualClock(T0);
    const stream = new Capture(false);
    await cachedRun(new PlainView(stream), clock);
    assert.match(stream.text, /^\[build\] cached · saved 1\.2\d* s$/m);
    assert.match(stream.text, /^\[lint\] completed in 500 ms$/m);
    assert.match(stream.text, /done 2 \(1 cached, saved 1\.2\d* s\)/);
  });

  it('the live view shows the row as `cached · saved 1.2 s`', async () => {
    const clock = new ManualClock(T0);
    const stream = new Capture(true, 80, 24);
    const view = liveView(stream, clock);
    await cachedRun(view, clock);
    assert.match(stream.text, /build\s+cached · saved 1\.2\d* s/);
    assert.match(stream.text, /\(1 cached, saved 1\.2\d* s\)/);
  });

  it('--json marks the completion cached with savedMs, and run.finished counts them', async () => {
    const clock = new ManualClock(T0);
    const stream = new Capture(false);
    await cachedRun(new JsonView(stream, { clock }), clock);
    const events = stream.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    const completed = events.filter((e): e is TaskTransitionEvent => e.type === 'task.completed');
    assert.deepEqual(
      completed.map((e) => [e.key, e.cached, e.savedMs]),
      [
        ['build', true, 1200],
        ['lint', undefined, undefined],
      ],
    );
    const finished = events.at(-1);
    assert.ok(finished?.type === 'run.finished');
    assert.equal(finished.cached, 1);
    assert.equal(finished.savedMs, 1200);
  });
});

describe('cli views: tasks a remote worker ran', () => {
  /** `build` completes on w1; `serve` is cancelled while running on w2 (named by the backend before its end). */
  async function remoteRun(view: PlainView | JsonView, clock: ManualClock): Promise<void> {
    const build = taskRecord('t1', { key: 'build' });
    const serve = taskRecord('t2', { key: 'serve' });
    clock.set(T0);
    view.start({ tasks: [build, serve], workflows: ['ci'], concurrency: 2, pools: {} });
    for (const r of [build, serve]) step(view, clock, r, { type: 'schedule' }, T0);
    step(view, clock, build, { type: 'start' }, T0 + 10);
    step(view, clock, serve, { type: 'start' }, T0 + 10);
    serve.worker = 'w2';
    step(view, clock, build, { type: 'complete', result: { exitCode: 0, worker: 'w1' } }, T0 + 500);
    step(view, clock, serve, { type: 'cancel', reason: 'stop it' }, T0 + 600);
    clock.set(T0 + 600);
    const tasks = [build, serve];
    await view.finish({ tasks, counts: countStatuses(tasks), elapsedMs: 600, exitCode: 1, interrupted: false, cached: 0, savedMs: 0 });
  }

  it('plain lines name the worker of a completed and of a cancelled task', async () => {
    const clock = new ManualClock(T0);
    const stream = new Capture(false);
    await remoteRun(new PlainView(stream), clock);
    assert.match(stream.text, /^\[build\] completed in 490 ms on w1$/m);
    assert.match(stream.text, /^\[serve\] cancelled on w2: stop it$/m);
  });

  it('--json gives the worker on the completion and on the cancel', async () => {
    const clock = new ManualClock(T0);
    const stream = new Capture(false);
    await remoteRun(new JsonView(stream, { clock }), clock);
    const ends = stream.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent)
      .filter((e): e is TaskTransitionEvent => e.type === 'task.completed' || e.type === 'task.cancelled');
    assert.deepEqual(
      ends.map((e) => [e.key, e.type, e.worker]),
      [
        ['build', 'task.completed', 'w1'],
        ['serve', 'task.cancelled', 'w2'],
      ],
    );
  });
});
