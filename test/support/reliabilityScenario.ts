// One seeded scenario of the reliability property test: an orchestrator on a failing store and a
// clock the test moves, executors that misbehave, random tasks, workflows, cancels and pauses; then
// the invariants of issue 11's "Done when" are checked. Everything random comes from the seed, so a
// failing seed replays exactly (PROPERTY_SEEDS / PROPERTY_SEED in the test file).
import { OrchestratorError } from '../../src/core/model/errors';
import { isFinished, type TaskRecord, type TaskSpec, type TaskStatus } from '../../src/core/model/model';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { migrate, STATE_KEY, validateSnapshot } from '../../src/core/state/snapshot';
import {
  BEHAVIOURS,
  ChaosExecutor,
  ENDLESS,
  FaultyStore,
  HUGE_TEXT,
  hostileProxy,
  MemoryArchive,
  Rng,
  steadyExecutor,
  SteppingClock,
  type Behaviour,
  type ChaosPayload,
} from './chaos';
import { settle } from './manualClock';
import { appOf, describeError, HANG_CLOCK_MS, historyOf, STEP_MS, tasksOf, unserialisableParts, within } from './reliabilityProbes';
import { checkAttempts, checkCrashRestore, checkRestore, POOLS, type RestoreContext } from './reliabilityRestore';

/** Once the store works again, the final state must be written within this much clock time. */
const DURABLE_WITHIN_MS = 60_000;
/** VS Code warns above 512 KiB of an extension's state (CONVENTIONS 12): no write may be larger. */
const MAX_SNAPSHOT_BYTES = 512 * 1024;
/** Finished records at most this large must stay in the snapshot while together they fit in half the 256 KiB budget. */
const SMALL_RECORD_BYTES = 4 * 1024;
const SMALL_HISTORY_BYTES = 128 * 1024;

export interface ScenarioReport {
  seed: number;
  /** One line per broken invariant, `[invariant] what was seen`. Empty when the seed passed. */
  violations: string[];
  /** What the scenario did, in order: enough to write a minimal reproduction. */
  log: string[];
}

class Scenario implements RestoreContext {
  readonly violations: string[] = [];
  readonly log: string[] = [];
  private readonly seen = new Set<string>();
  readonly rng: Rng;
  readonly clock = new SteppingClock(1_000_000);
  readonly store: FaultyStore;
  readonly archive = new MemoryArchive();
  private o!: OrchestratorImpl;
  private readonly ids: string[] = [];
  private userPaused = false;
  private cancelAllsInFlight = 0;
  private readonly pending: Promise<unknown>[] = [];
  private lateRegistered = false;
  /** Tasks whose cancelTask() resolved. */
  private readonly cancelAccepted = new Set<string>();
  /** Tasks the user removed (removeTask, clearFinished): they may be gone, nothing else may. */
  readonly removed = new Set<string>();
  private concurrency = 1;
  private reloads = 0;
  private readonly executors = [new ChaosExecutor(this.clock), new ChaosExecutor(this.clock)];
  /** Durable `jobs` subscription: how many handlers run at once, at most, and its limit. */
  private jobs: { concurrency: number; ackAlways: boolean; maxRunning: number; published: number; maxBurst: number } | undefined = undefined;
  /** Last value set per application-state key (undefined: deleted). */
  readonly appState = new Map<string, unknown>();
  /** A listener of onDidChangeTask throws on some tasks: it must go to onDidWarn, nothing else. */
  private throwingListener = false;
  /** The first final status each task reached: a finished task never changes again. */
  private readonly finalStatus = new Map<string, TaskStatus>();
  private taskNo = 0;
  private durableNo = 0;
  private steppedBack = false;
  /** Names of tasks an onDidChangeTask listener cancels when they turn Running; ids once they did. */
  private readonly cancelledOnStart = new Set<string>();
  /** Ids that existed when a synchronizeState() call began, checked when it resolves. */
  private readonly syncChecks: Promise<void>[] = [];
  /** Tasks scheduled while a cancelAll was in flight (issue 11 #10 strands them in Created). */
  private readonly bornDuringCancelAll = new Set<string>();

  constructor(readonly seed: number) {
    this.rng = new Rng(seed);
    const faults = {
      rejectRate: this.rng.pick([0, 0.1, 0.3]),
      throwRate: this.rng.pick([0, 0, 0.05]),
      hangRate: this.rng.pick([0, 0.1]),
      hangMs: this.rng.pick([2000, 12_000]),
    };
    this.clock.onTimerError = (err) => this.violate('no crash', `uncaughtException (a timer callback threw): ${describeError(err, 3)}`);
    this.store = new FaultyStore(this.rng, this.clock, faults);
    this.store.describeParts = (v) =>
      typeof v === 'object' && v !== null && Array.isArray((v as { tasks?: unknown }).tasks) ? ` in ${unserialisableParts(v as { tasks: TaskRecord[] })}` : '';
    this.note(`store faults ${JSON.stringify(faults)}`);
  }

  violate(invariant: string, detail: string): void {
    const key = `${invariant}|${detail}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.violations.push(`[${invariant}] ${detail}`);
  }

  note(line: string): void {
    this.log.push(line);
  }

  async run(): Promise<void> {
    const concurrency = this.rng.int(1, 4);
    if (this.rng.chance(0.3)) {
      this.store.failNextGet();
      this.note('first store.get throws (empty store)');
    }
    this.note(`createOrchestrator concurrency=${concurrency} resources=${JSON.stringify(POOLS)}`);
    const created = await within(
      createOrchestrator({
        store: this.store,
        clock: this.clock,
        archive: this.archive,
        concurrency,
        resources: { ...POOLS },
        executors: { chaos: this.executors[0] },
        killGraceMs: 500,
      }),
      this.clock,
    );
    if (created.state !== 'resolved')
      return this.violate(
        'no hang',
        `createOrchestrator on an empty store ${created.state === 'hung' ? 'never resolved' : `rejected: ${describeError(created.error)}`}`,
      );
    this.o = created.value;
    this.concurrency = concurrency;
    this.throwingListener = this.rng.chance(0.3);
    if (this.throwingListener) this.note('an onDidChangeTask listener throws on every third change');
    if (this.rng.chance(0.5)) this.subscribeJobs();
    this.attach();

    const ops = this.rng.int(10, 40);
    for (let i = 0; i < ops; i++) {
      try {
        await this.step();
      } catch (err) {
        // No public call may throw what is not a refusal; one that does is a crash of the caller.
        this.note(`  threw: ${describeError(err)}`);
        if (!(err instanceof OrchestratorError)) this.violate('no crash', `${this.log[this.log.length - 2] ?? 'a call'} threw ${describeError(err, 3)}`);
      }
    }
    await this.finish();
  }

  /** Listeners, the executors' way back in and the durable subscriber, on the current orchestrator. */
  private attach(): void {
    const o = this.o;
    o.onDidChangeTask((r) => this.checkTransition(r));
    if (this.throwingListener) {
      let n = 0;
      o.onDidChangeTask(() => {
        if (++n % 3 === 0) throw new Error('a listener threw');
      });
    }
    const host = {
      cancel: (taskId: string) => this.track(`cancelTask(${taskId}) from inside its execute()`, o.cancelTask(taskId, 'cancelled from inside execute')),
      schedule: () => {
        const spec: TaskSpec = { name: `inside-${this.taskNo++}`, kind: 'chaos', payload: { plan: ['ok'], delayMs: 1 } satisfies ChaosPayload };
        const before = o.getTasks().length;
        this.checkRefusal(
          `scheduleTask(${spec.name}) from inside execute()`,
          o.scheduleTask(spec).then((id) => void this.ids.push(id)),
          before,
        );
      },
    };
    for (const ex of this.executors) ex.host = host;
    if (this.jobs) this.subscribeJobsOn(o, this.jobs);
    o.onDidChangeTask((r) => {
      if (r.status === 'running' && r.name.startsWith('cancel-on-start') && !this.cancelledOnStart.has(r.id)) {
        this.cancelledOnStart.add(r.id);
        this.track(`cancelTask(${r.id}) from a listener`, o.cancelTask(r.id, 'cancelled by a listener on start'));
      }
    });
  }

  /**
   * A window reload in the middle of the work: the store heals, the orchestrator is disposed with
   * tasks running and waiting, and a new one starts from the same store. Every task survives, a
   * finished one unchanged, and the scenario goes on with the new orchestrator.
   */
  private async reload(): Promise<void> {
    const old = this.o;
    const before = new Map(old.getTasks().map((r) => [r.id, r.status] as const));
    this.note(`reload (${before.size} tasks): the store heals, dispose(), createOrchestrator on the same store`);
    this.store.faultsOn = false;
    const warned = old.warnings.length;
    const disposed = await within(old.dispose(), this.clock, 60_000);
    // A dispose that could not save (an earlier write still pending past its bound, a state it
    // could not read) must say so; then, and only then, the reload may lose what it did not save.
    const unsaved = old.warnings.slice(warned).find((w) => w.code === 'STORE_WRITE_FAILED');
    if (unsaved) this.note(`  dispose reported: ${unsaved.message}`);
    if (disposed.state !== 'resolved')
      this.violate(
        'no hang',
        `dispose() for a reload ${disposed.state === 'hung' ? 'never resolved' : `rejected: ${describeError(disposed.error)}`} with a working store`,
      );
    // Attempts the new orchestrator starts while it restores (before attach) must not call back
    // into the disposed one: without a host the re-entrant behaviours just complete.
    for (const ex of this.executors) ex.host = undefined;
    const executors: Record<string, ChaosExecutor> = { chaos: this.executors[0] };
    if (this.lateRegistered) executors.late = this.executors[1];
    const created = await within(
      createOrchestrator({
        store: this.store,
        clock: this.clock,
        archive: this.archive,
        concurrency: this.concurrency,
        resources: { ...POOLS },
        executors,
        killGraceMs: 500,
      }),
      this.clock,
    );
    if (created.state !== 'resolved') {
      this.violate('restore', `createOrchestrator after a reload ${created.state === 'hung' ? 'never resolved' : `rejected: ${describeError(created.error)}`}`);
      throw new Error('cannot go on without an orchestrator');
    }
    const o = created.value;
    for (const [id, status] of unsaved ? [] : before) {
      const now = o.getTask(id);
      if (now === undefined && !this.archive.ids.has(id))
        this.violate('nothing lost', `${id} (${status} before the reload) is gone after it, and dispose() reported no failure`);
      else if (now !== undefined && isFinished(status) && now.status !== status)
        this.violate('nothing lost', `${id} was ${status} before the reload and is ${now.status} after it, and dispose() reported no failure`);
    }
    if (unsaved) {
      // What dispose() said it could not save may come back older: the model follows the restore.
      this.userPaused = o.paused;
      for (const key of this.appState.keys()) this.appState.set(key, o.state.peek(key));
      for (const r of o.getTasks()) {
        if (isFinished(r.status)) this.finalStatus.set(r.id, r.status);
        else this.finalStatus.delete(r.id);
        if (r.status !== 'cancelled') {
          this.cancelledOnStart.delete(r.id);
          this.cancelAccepted.delete(r.id);
        }
      }
    }
    this.checkCounts(o, 'after a reload: ');
    this.o = o;
    this.attach();
    this.store.faultsOn = true;
  }

  /** A call whose rejection is allowed only as an OrchestratorError (a refusal), never as a crash. */
  track(what: string, p: Promise<unknown>): void {
    this.pending.push(
      p.then(undefined, (err: unknown) => {
        if (!(err instanceof OrchestratorError)) this.violate('clear errors', `${what} rejected with ${describeError(err)}, not an OrchestratorError`);
      }),
    );
  }

  private async step(): Promise<void> {
    const o = this.o;
    const roll = this.rng.next();
    if (roll < 0.08 && this.jobs) {
      const burst = this.rng.int(1, 6);
      this.jobs.maxBurst = Math.max(this.jobs.maxBurst, burst);
      // All at once, or each after the previous publish resolved (workers then start one by one).
      const spaced = this.rng.chance(0.5);
      this.note(`publish ${burst} jobs${spaced ? ', awaiting each' : ''}`);
      for (let i = 0; i < burst; i++) {
        const p = o.queue.publish({ topic: 'jobs', payload: { n: this.jobs.published++ } });
        this.track('publish(jobs)', p);
        if (spaced) await p.catch(() => undefined);
      }
      return;
    }
    if (roll < 0.36) return this.schedule();
    if (roll < 0.44) return this.workflow();
    if (roll < 0.52) {
      if (!this.ids.length) return;
      const id = this.rng.pick(this.ids);
      // Now and then a reason of 200,000 control characters (1.2 MB of JSON): issue 11 #8.
      const huge = this.rng.chance(0.1);
      this.note(`cancelTask(${id}${huge ? ", '\\u0001'.repeat(200_000)" : ''})`);
      const p = o.cancelTask(id, huge ? HUGE_TEXT : 'random cancel');
      this.track(`cancelTask(${id})`, p);
      // Resolved: the cancel was accepted, so the task ends Cancelled (checked at the end).
      p.then(
        () => this.cancelAccepted.add(id),
        () => undefined,
      );
      return;
    }
    if (roll < 0.56) {
      this.note('cancelAll() (not awaited)');
      this.cancelAllsInFlight++;
      const p = o.cancelAll('random cancelAll').finally(() => this.cancelAllsInFlight--);
      this.track('cancelAll()', p);
      return;
    }
    if (roll < 0.61) {
      this.note('pause()');
      o.pause();
      this.userPaused = true;
      return;
    }
    if (roll < 0.66) {
      this.note('resume()');
      o.resume();
      this.userPaused = false;
      return;
    }
    if (roll < 0.78) {
      const ms = this.rng.pick([0, 1, 50, 300, 1000, 3000, 12_000]);
      this.note(`advance(${ms})`);
      await this.clock.advance(ms);
      this.checkPaused();
      return;
    }
    if (roll < 0.8) return this.forget();
    if (roll < 0.82) {
      const n = this.rng.int(1, 4);
      this.note(`setConcurrency(${n})`);
      o.setConcurrency(n);
      return;
    }
    if (roll < 0.84) {
      const pools = this.rng.chance(0.5) ? { gpu: 1 } : { ...POOLS };
      this.note(`setResources(${JSON.stringify(pools)})`);
      o.setResources(pools);
      return;
    }
    if (roll < 0.87) {
      const done = this.ids.filter((id) => ['failed', 'cancelled'].includes(o.getTask(id)?.status ?? ''));
      if (!done.length) return;
      const id = this.rng.pick(done);
      this.note(`retryTask(${id})`);
      const before = o.getTasks().length;
      const p = o.retryTask(id).then((nid) => {
        this.ids.push(nid);
        this.note(`  retryTask(${id}) -> ${nid}`);
      });
      this.checkRefusal(`retryTask(${id})`, p, before);
      return;
    }
    if (roll < 0.89) {
      if (this.lateRegistered) return;
      this.lateRegistered = true;
      this.note("registerExecutor('late', chaos)");
      o.registerExecutor('late', this.executors[1]);
      return;
    }
    if (roll < 0.92) {
      const ids = o.getTasks().map((r) => r.id);
      const since = this.store.committed.length;
      this.note('synchronizeState() (not awaited)');
      this.syncChecks.push(
        o.state.synchronizeState().then(
          () => {
            // Resolved: the README calls this the point where a task is durable. Some write committed
            // after the call holds each task that existed at the call, or the archive does.
            const saved = new Set<string>();
            for (const raw of this.store.committed.slice(since)) for (const id of tasksOf(raw).keys()) saved.add(id);
            const missing = ids.filter((id) => !saved.has(id) && !this.archive.ids.has(id) && !this.removed.has(id));
            if (missing.length)
              this.violate(
                'synchronizeState is durable',
                `synchronizeState() resolved but no write since the call holds ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (${missing.length} in all)` : ''} (issue 11 #5)`,
              );
          },
          () => undefined,
        ),
      );
      return;
    }
    if (roll < 0.928) {
      this.note('queue: durable manual-ack subscription, then publish a payload whose toJSON returns a cycle');
      o.queue.subscribe('chaos.topic', () => undefined, { name: `durable-${this.durableNo++}`, manualAck: true });
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      this.track('publish(cyclic toJSON)', o.queue.publish({ topic: 'chaos.topic', payload: { toJSON: () => cyclic } }));
      return;
    }
    if (roll < 0.938) {
      this.note('wall clock steps back 1 h');
      this.clock.stepBack(3_600_000);
      this.steppedBack = true;
      return;
    }
    if (roll < 0.97) return this.invalidSpec();
    if (roll < 0.98) {
      const key = `ui.k${this.rng.int(0, 2)}`;
      const value = this.rng.chance(0.2) ? undefined : { n: this.rng.int(0, 1000), list: [this.rng.next()] };
      this.note(`updateState(${key}, ${JSON.stringify(value)})`);
      this.appState.set(key, value);
      this.track(`updateState(${key})`, o.state.updateState(key, value));
      return;
    }
    if (roll < 0.995 && this.reloads < 2) {
      this.reloads++;
      return this.reload();
    }
    this.note('settle()');
    await settle();
  }

  /**
   * A durable manual-ack subscription whose handler takes 100 ms of clock time and acknowledges
   * every message, or (half the seeds) a first delivery only half the time. Its unacknowledged
   * messages are what a crash restore must deliver again.
   */
  private subscribeJobs(): void {
    const jobs = { concurrency: this.rng.int(1, 4), ackAlways: this.rng.chance(0.5), maxRunning: 0, published: 0, maxBurst: 0 };
    this.jobs = jobs;
    this.note(`subscribe jobs (durable, manual ack${jobs.ackAlways ? '' : ' of half the first deliveries'}, concurrency ${jobs.concurrency})`);
  }

  private subscribeJobsOn(o: OrchestratorImpl, jobs: NonNullable<Scenario['jobs']>): void {
    // Counted per orchestrator: a reload's disposed queue may still have handlers finishing.
    const here = { running: 0 };
    o.queue.subscribe(
      'jobs',
      (m) =>
        new Promise<void>((resolve) => {
          here.running++;
          jobs.maxRunning = Math.max(jobs.maxRunning, here.running);
          const ack = jobs.ackAlways || (m.delivery ?? 1) > 1 || this.rng.chance(0.5);
          this.clock.setTimeout(() => {
            here.running--;
            if (ack) this.track('acknowledge(jobs)', o.queue.acknowledge(m.receipt ?? m.id));
            resolve();
          }, 100);
        }),
      { name: 'jobs', manualAck: true, concurrency: jobs.concurrency, ackTimeoutMs: 2000, maxDeliveries: 1000 },
    );
  }

  /** The user forgets finished work: removeTask, clearFinished, or a small maxFinished (to the archive). */
  private forget(): void {
    const o = this.o;
    const pick = this.rng.int(0, 3);
    if (pick <= 1) {
      const finished = o.getTasks().filter((r) => isFinished(r.status));
      if (!finished.length) return;
      const id = this.rng.pick(finished).id;
      this.note(`removeTask(${id})`);
      this.removed.add(id);
      this.track(`removeTask(${id})`, o.removeTask(id));
    } else if (pick === 2) {
      this.note('clearFinished()');
      for (const r of o.getTasks()) if (isFinished(r.status)) this.removed.add(r.id);
      this.track('clearFinished()', o.clearFinished());
    } else {
      const n = this.rng.int(0, 5);
      this.note(`setMaxFinished(${n})`);
      o.setMaxFinished(n);
    }
  }

  /** A spec that must be refused: with an OrchestratorError, by rejecting (never a throw), changing nothing. */
  private invalidSpec(): void {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: [string, unknown][] = [
      ['NUL in command', { name: 'bad', kind: 'shell', command: 'echo\u0000x' }],
      ['NUL in cwd', { name: 'bad', kind: 'shell', command: 'true', cwd: '/tmp\u0000' }],
      ['negative timeout', { name: 'bad', kind: 'chaos', timeoutMs: -5 }],
      ['retries 1e9', { name: 'bad', kind: 'chaos', retries: 1e9 }],
      ['unknown pool', { name: 'bad', kind: 'chaos', resources: { nosuch: 1 } }],
      ['unknown dependency', { name: 'bad', kind: 'chaos', dependsOn: ['no-such-id'] }],
      ['cyclic payload', { name: 'bad', kind: 'chaos', payload: cyclic }],
      [
        'payload toJSON throws',
        {
          name: 'bad',
          kind: 'chaos',
          payload: {
            toJSON: () => {
              throw new Error('toJSON threw');
            },
          },
        },
      ],
      ['NaN priority', { name: 'bad', kind: 'chaos', priority: NaN }],
      ['unknown kind', { name: 'bad', kind: 'nosuchkind' }],
      ['empty name', { name: '', kind: 'chaos' }],
      ['null spec', null],
      ['a spec whose every read throws', hostileProxy()],
    ];
    const [what, spec] = this.rng.pick(bad);
    this.note(`scheduleTask(<${what}>)`);
    const before = this.o.getTasks().length;
    let p: Promise<string>;
    try {
      p = this.o.scheduleTask(spec as TaskSpec);
    } catch (err) {
      this.violate('clear errors', `scheduleTask(<${what}>) threw ${describeError(err)} instead of rejecting`);
      return;
    }
    const after = this.o.getTasks().length;
    this.pending.push(
      p.then(
        (id) => {
          this.ids.push(id);
          this.violate('bad input refused', `scheduleTask(<${what}>) was accepted as ${id}`);
        },
        (err: unknown) => {
          if (!(err instanceof OrchestratorError) && what !== 'a spec whose every read throws')
            this.violate('clear errors', `scheduleTask(<${what}>) rejected with ${describeError(err)}, not an OrchestratorError`);
          if (after !== before) this.violate('refusal changes nothing', `scheduleTask(<${what}>) was refused but created ${after - before} tasks`);
        },
      ),
    );
  }

  private behaviour(): Behaviour {
    // Half of the attempts behave; the rest spread over every misbehaviour.
    return this.rng.chance(0.5) ? 'ok' : this.rng.pick(BEHAVIOURS);
  }

  private randomSpec(key?: string, keys: string[] = []): TaskSpec {
    const n = this.taskNo++;
    const kinds = this.lateRegistered ? ['chaos', 'chaos', 'late', 'function'] : ['chaos', 'chaos', 'chaos', 'function'];
    const kind = this.rng.pick(kinds);
    const retries = this.rng.pick([0, 0, 1, 2]);
    const plan: Behaviour[] = [];
    for (let i = 0; i <= retries; i++) plan.push(this.behaviour());
    const endless = plan.some((b) => ENDLESS.has(b));
    const spec: TaskSpec = { name: this.rng.chance(0.1) ? `cancel-on-start-${n}` : `t${n}`, kind };
    if (kind === 'function') spec.run = functionRun(plan);
    else spec.payload = { plan, delayMs: this.rng.pick([1, 100, 2000]) } satisfies ChaosPayload;
    if (retries) {
      spec.retries = retries;
      spec.retryDelayMs = this.rng.pick([10, 100, 1000]);
    }
    // Work that never settles by itself gets a timeout: without one it may run forever, legitimately.
    if (endless || this.rng.chance(0.3)) spec.timeoutMs = this.rng.pick([50, 500, 2000, 5000]);
    const priority = this.rng.int(-2, 2);
    if (priority) spec.priority = priority;
    if (this.rng.chance(0.3)) spec.resources = this.rng.chance(0.5) ? { gpu: 1 } : { net: this.rng.int(1, 2) };
    if (key !== undefined) spec.key = key;
    const deps: string[] = [];
    if (keys.length && this.rng.chance(0.6)) deps.push(this.rng.pick(keys));
    if (this.ids.length && this.rng.chance(0.25)) deps.push(this.rng.pick(this.ids));
    if (deps.length) {
      spec.dependsOn = [...new Set(deps)];
      // A cleanup step: runs once every dependency is final, however it ended.
      if (this.rng.chance(0.2)) spec.runAlways = true;
    }
    return spec;
  }

  private describeSpec(s: TaskSpec): string {
    const plan = s.kind === 'function' ? (s.run as { plan?: Behaviour[] }).plan : (s.payload as ChaosPayload).plan;
    const extra = { ...s, run: undefined, payload: undefined, kind: undefined, name: undefined };
    return `${s.name} ${s.kind} plan=[${plan?.join(',')}]${s.kind !== 'function' ? ` delay=${(s.payload as ChaosPayload).delayMs}` : ''} ${JSON.stringify(extra)}`;
  }

  private schedule(): void {
    const spec = this.randomSpec();
    this.note(`scheduleTask ${this.describeSpec(spec)}`);
    const before = this.o.getTasks().length;
    const duringCancelAll = this.cancelAllsInFlight > 0;
    const p = this.o.scheduleTask(spec).then((id) => {
      this.ids.push(id);
      if (duringCancelAll) this.bornDuringCancelAll.add(id);
      this.note(`  ${spec.name} -> ${id}`);
    });
    this.checkRefusal(`scheduleTask(${spec.name})`, p, before);
  }

  private workflow(): void {
    const size = this.rng.int(2, 4);
    const keys: string[] = [];
    const specs: TaskSpec[] = [];
    for (let i = 0; i < size; i++) {
      const key = `k${i}`;
      specs.push(this.randomSpec(key, keys));
      keys.push(key);
    }
    this.note(`scheduleWorkflow [${specs.map((s) => this.describeSpec(s)).join(' | ')}]`);
    let before = 0;
    try {
      before = this.o.getTasks().length;
    } catch (err) {
      this.violate('no crash', `getTasks() threw: ${describeError(err)}`);
    }
    const duringCancelAll = this.cancelAllsInFlight > 0;
    const p = this.o.scheduleWorkflow(specs).then((ids) => {
      this.ids.push(...ids);
      if (duringCancelAll) for (const id of ids) this.bornDuringCancelAll.add(id);
      this.note(`  workflow -> ${ids.join(', ')}`);
    });
    this.checkRefusal('scheduleWorkflow', p, before);
  }

  /**
   * A refused request changes nothing: if `p` rejects, no task may have been created by it. A
   * refusal must be an OrchestratorError; anything else is a crash that escaped (issue 11 #14).
   */
  private checkRefusal(what: string, p: Promise<void>, before: number): void {
    const after = this.o.getTasks().length;
    this.pending.push(
      p.then(undefined, (err: unknown) => {
        this.note(`  ${what} rejected: ${describeError(err)}`);
        if (!(err instanceof OrchestratorError))
          this.violate('clear errors', `${what} rejected with ${describeError(err)}, not an OrchestratorError (issue 11 #14)`);
        if (after !== before) {
          const left = this.o.getTasks().slice(before);
          this.violate(
            'refusal changes nothing',
            `${what} rejected but left ${left.map((r) => `${r.id} (${r.name}, ${r.status})`).join(', ')} behind (issue 11 #14)`,
          );
          for (const r of left) if (!this.ids.includes(r.id)) this.ids.push(r.id);
        }
      }),
    );
  }

  /** Checked at every change: slots, pools, dependency order, and that a finished task stays finished. */
  private checkTransition(r: TaskRecord): void {
    const first = this.finalStatus.get(r.id);
    if (first !== undefined && r.status !== first) this.violate('finished is final', `${r.id} (${r.name}) went from ${first} to ${r.status}`);
    if (first === undefined && isFinished(r.status)) this.finalStatus.set(r.id, r.status);
    if (r.status !== 'running') return;
    const status = this.o.getSystemStatus();
    if (status.counts.running > status.concurrency.limit)
      this.violate('concurrency', `${r.id} (${r.name}) started with ${status.counts.running} running, limit ${status.concurrency.limit}`);
    for (const [pool, units] of Object.entries(r.spec.resources ?? {})) {
      const p = status.pools[pool];
      if (p === undefined || p.inUse > p.capacity)
        this.violate('pool capacity', `${r.id} (${r.name}) started holding ${units} of ${pool}: ${p ? `${p.inUse} in use of ${p.capacity}` : 'no such pool'}`);
    }
    for (const d of r.dependsOn) {
      const dep = this.o.getTask(d);
      const ok = dep === undefined || (r.spec.runAlways === true ? isFinished(dep.status) : dep.status === 'completed');
      if (!ok)
        this.violate(
          'dependency order',
          `${r.id} (${r.name}${r.spec.runAlways ? ', runAlways' : ''}) started while its dependency ${d} (${dep?.name}) is ${dep?.status}`,
        );
    }
  }

  /** getSystemStatus() agrees with the records: counts per status, the total, an empty queue at idle. */
  private checkCounts(o: OrchestratorImpl, where: string): void {
    const status = o.getSystemStatus();
    const tasks = o.getTasks();
    const counted: Record<string, number> = {};
    for (const r of tasks) counted[r.status] = (counted[r.status] ?? 0) + 1;
    for (const [s, n] of Object.entries(status.counts))
      if ((counted[s] ?? 0) !== n) this.violate('status consistent', `${where}getSystemStatus() counts ${n} ${s}, the records ${counted[s] ?? 0}`);
    if (status.total !== tasks.length) this.violate('status consistent', `${where}getSystemStatus().total is ${status.total}, getTasks() has ${tasks.length}`);
    if (tasks.every((r) => isFinished(r.status)) && o.getTaskQueue().length)
      this.violate('status consistent', `${where}getTaskQueue() holds ${o.getTaskQueue().length} tasks at idle`);
  }

  private checkPaused(): void {
    if (this.cancelAllsInFlight === 0 && this.o.paused !== this.userPaused) {
      this.violate(
        "pause is the user's",
        `after cancelAll settled, paused is ${this.o.paused} though the user last ${this.userPaused ? 'paused' : 'resumed'} (issue 11 #10)`,
      );
    }
  }

  private async finish(): Promise<void> {
    const o = this.o;
    this.note('resume(); then wait for idle');
    this.userPaused = false;
    try {
      o.resume();
    } catch (err) {
      this.violate('no crash', `resume() threw ${describeError(err, 3)}`);
    }
    const calls = await within(Promise.all(this.pending), this.clock);
    if (calls.state === 'hung') this.violate('no hang', 'a cancelTask/cancelAll/schedule call never settled');
    const idle = await within(o.whenIdle(), this.clock);
    if (idle.state !== 'resolved') {
      const stuck = o.getTasks().filter((r) => !isFinished(r.status));
      const why = (r: TaskRecord): string =>
        r.status === 'running'
          ? ''
          : `, deps ${r.dependsOn.map((d) => `${d}:${o.getTask(d)?.status ?? 'gone'}`).join('/') || 'none'}${r.spec.resources ? `, needs ${JSON.stringify(r.spec.resources)}` : ''}${this.bornDuringCancelAll.has(r.id) ? ', scheduled while a cancelAll was in flight (issue 11 #10)' : ''}`;
      const st = o.getSystemStatus();
      this.violate(
        'no hang',
        `whenIdle() did not resolve within ${HANG_CLOCK_MS / 60_000} clock minutes (paused ${st.paused}, running ${st.concurrency.running}/${st.concurrency.limit}, pools ${JSON.stringify(st.pools)}); unfinished: ${stuck.map((r) => `${r.id} (${r.name}, ${r.status}${why(r)})`).join(', ')}`,
      );
    }
    this.checkPaused();
    for (const r of o.getTasks()) if (!isFinished(r.status)) this.violate('every task final', `${r.id} (${r.name}) is ${r.status}; history ${historyOf(r)}`);
    for (const r of o.getTasks()) {
      const last = r.history[r.history.length - 1];
      if (r.spec.runAlways === true && r.status === 'cancelled' && last?.reason?.startsWith('Dependency'))
        this.violate('runAlways', `${r.id} (${r.name}), a runAlways task, was cancelled by its dependency: ${last.reason}`);
    }
    const status = o.getSystemStatus();
    if (status.concurrency.running !== 0) this.violate('slots released', `running count is ${status.concurrency.running} at idle`);
    for (const [name, p] of Object.entries(status.pools)) if (p.inUse !== 0) this.violate('pools released', `pool ${name} has ${p.inUse} in use at idle`);
    checkAttempts(this, o, this.executors, '');
    const jobs = this.jobs;
    if (jobs && jobs.maxRunning > jobs.concurrency)
      this.violate('queue concurrency', `the jobs subscription ran ${jobs.maxRunning} handlers at once, concurrency ${jobs.concurrency} (issue 11 #17)`);
    // A burst of at least `concurrency` messages, each handled and acknowledged in 100 ms, must fill
    // every worker. (A message left unacknowledged holds its worker until its ack timeout.)
    if (jobs && jobs.ackAlways && jobs.maxBurst >= jobs.concurrency && jobs.maxRunning < jobs.concurrency)
      this.violate(
        'queue concurrency',
        `the jobs subscription never ran more than ${jobs.maxRunning} handlers at once, though a burst of ${jobs.maxBurst} was published with concurrency ${jobs.concurrency} (issue 11 #17)`,
      );
    for (const id of this.cancelAccepted) {
      const r = o.getTask(id);
      if (r && r.status !== 'cancelled') this.violate('cancel accepted', `cancelTask(${id}) resolved but ${r.name} ended ${r.status}; history ${historyOf(r)}`);
    }
    for (const id of this.cancelledOnStart) {
      const r = o.getTask(id);
      if (r && r.status !== 'cancelled')
        this.violate(
          'cancel on start',
          `${id} was cancelled by an onDidChangeTask listener when it turned Running but ended ${r.status} (issue 11 #11); history ${historyOf(r)}`,
        );
    }
    await within(Promise.all(this.syncChecks), this.clock);
    try {
      const snap = o.state.buildSnapshot();
      try {
        JSON.stringify(snap);
      } catch (err) {
        this.violate('snapshot buildable', `serialising the snapshot threw: ${describeError(err)} in ${unserialisableParts(snap)}`);
      }
    } catch (err) {
      this.violate('snapshot buildable', `building the snapshot threw: ${describeError(err, 3)}`);
    }
    for (const u of this.store.unserialisable) this.violate('snapshot buildable', `the store was handed a value JSON.stringify rejects: ${u}`);

    // The store heals: the final state must then reach it, whatever happened to earlier writes.
    this.store.faultsOn = false;
    this.note('store heals; wait for the final state to be written');
    const memory = new Map(o.getTasks().map((r) => [r.id, r.status] as const));
    const written = (): string[] => {
      const saved = tasksOf(this.store.durable.get(STATE_KEY));
      const wrong: string[] = [];
      for (const [id, s] of memory) if (saved.get(id) !== s && !this.archive.ids.has(id)) wrong.push(`${id} ${saved.get(id) ?? 'absent'} (is ${s})`);
      const app = appOf(this.store.durable.get(STATE_KEY));
      for (const [key, value] of this.appState)
        if (JSON.stringify(app[key]) !== JSON.stringify(value))
          wrong.push(`application state ${key} ${JSON.stringify(app[key])} (is ${JSON.stringify(value)})`);
      return wrong;
    };
    let wrong = written();
    for (let waited = 0; wrong.length && waited < DURABLE_WITHIN_MS; waited += STEP_MS) {
      await this.clock.advance(STEP_MS);
      wrong = written();
    }
    if (wrong.length) {
      const hints = [
        this.steppedBack ? 'the wall clock stepped back (issue 11 #7)' : '',
        this.store.unserialisable.length ? 'the store was handed unserialisable snapshots (issue 11 #2/#4)' : '',
      ].filter(Boolean);
      this.violate(
        'state written',
        `${DURABLE_WITHIN_MS / 1000} s after idle with a working store, the saved state still has ${wrong.slice(0, 4).join(', ')}${wrong.length > 4 ? ` and ${wrong.length - 4} more` : ''}${hints.length ? `; ${hints.join('; ')}` : ''}`,
      );
    }

    this.checkHistory(o);
    // The orchestrator never writes what it could not read back.
    this.store.committed.forEach((raw, i) => {
      try {
        validateSnapshot(migrate(JSON.parse(raw)));
      } catch (err) {
        this.violate('snapshot valid', `committed write ${i + 1} does not validate: ${describeError(err)}`);
      }
    });
    this.checkCounts(o, '');
    const largest = Math.max(0, ...this.store.committed.map((c) => c.length));
    if (largest > MAX_SNAPSHOT_BYTES) this.violate('snapshot bounded', `a committed write was ${largest} bytes, over ${MAX_SNAPSHOT_BYTES} (issue 11 #8/#19)`);

    const disposed = await within(o.dispose(), this.clock, 60_000);
    if (disposed.state === 'hung') this.violate('no hang', 'dispose() did not resolve within 60 clock seconds with a working store (issue 11 #21)');
    else if (disposed.state === 'rejected') this.violate('dispose', `dispose() rejected with a working store: ${describeError(disposed.error)}`);
    if (disposed.state === 'resolved') await this.checkDisposed(o);

    await checkRestore(this);
    await checkCrashRestore(this);
  }

  /** After dispose every call that would change something refuses with DISPOSED (issue 11 #22). */
  private async checkDisposed(o: OrchestratorImpl): Promise<void> {
    const calls: [string, () => unknown][] = [
      ['scheduleTask', () => o.scheduleTask({ name: 'late', kind: 'chaos' })],
      ['pause', () => o.pause()],
      ['setConcurrency', () => o.setConcurrency(2)],
      ['registerExecutor', () => o.registerExecutor('after-dispose', steadyExecutor)],
      ['updateState', () => o.state.updateState('ui.after', 1)],
    ];
    for (const [name, call] of calls) {
      let refused: unknown;
      try {
        await call();
      } catch (err) {
        refused = err;
      }
      if (refused === undefined) this.violate('refused after dispose', `${name}() after dispose() succeeded silently (issue 11 #22)`);
      else if (!(refused instanceof OrchestratorError) || refused.code !== 'DISPOSED')
        this.violate('refused after dispose', `${name}() after dispose() failed with ${describeError(refused)}, not DISPOSED (issue 11 #22)`);
    }
    try {
      o.getTask(undefined as unknown as string);
    } catch (err) {
      if (!(err instanceof OrchestratorError)) this.violate('clear errors', `getTask(undefined) threw ${describeError(err)} (issue 11 #22)`);
    }
  }

  /**
   * Small finished records stay in the saved snapshot while they fit in half the byte budget
   * together: one oversized record must not push them out (issue 11 #8).
   */
  private checkHistory(o: OrchestratorImpl): void {
    const saved = tasksOf(this.store.durable.get(STATE_KEY));
    const small = o.getTasks().filter((r) => isFinished(r.status) && JSON.stringify(r).length <= SMALL_RECORD_BYTES);
    const total = small.reduce((n, r) => n + JSON.stringify(r).length, 0);
    if (total > SMALL_HISTORY_BYTES) return;
    const out = small.filter((r) => !saved.has(r.id));
    if (out.length) {
      const big = o.getTasks().filter((r) => JSON.stringify(r).length > SMALL_RECORD_BYTES);
      this.violate(
        'history kept',
        `${out.length} small finished records (${total} bytes in all) are not in the saved snapshot (e.g. ${out
          .slice(0, 3)
          .map((r) => r.id)
          .join(', ')}); oversized records: ${big.map((r) => `${r.id} ${JSON.stringify(r).length} bytes`).join(', ') || 'none'} (issue 11 #8)`,
      );
    }
  }
}

/** A function task's `run` that misbehaves as the plan says, attempt by attempt. */
function functionRun(plan: Behaviour[]): TaskSpec['run'] & { plan: Behaviour[] } {
  const run = ({ attempt, signal }: { attempt: number; signal: AbortSignal }): unknown => {
    const b = plan[Math.min(attempt - 1, plan.length - 1)];
    switch (b) {
      case 'bigint':
        return 10n;
      case 'cycle': {
        const c: Record<string, unknown> = {};
        c.self = c;
        return c;
      }
      case 'throwProxy':
        throw hostileProxy();
      case 'rejectProxy':
        return Promise.reject(hostileProxy());
      case 'throwHostile':
        throw hostileProxy(true);
      case 'never':
      case 'deaf':
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
      case 'fail':
      case 'exit1':
      case 'throw':
        throw new Error(`function task: ${b}`);
      case 'null':
        return null;
      case 'undefined':
        return undefined;
      default:
        return { ok: attempt };
    }
  };
  return Object.assign(run, { plan });
}

/**
 * Runs one seed with process-wide crash listeners installed (and the test runner's own removed, so
 * a crash is reported against its seed instead of failing whatever test runs next).
 */
export async function runScenario(seed: number): Promise<ScenarioReport> {
  const scenario = new Scenario(seed);
  // The core draws jitter (retry backoff) and workflow ids from Math.random: seeded too, so a seed replays.
  // Nothing may go to the console: listener errors and warnings go to onDidWarn (issue 11 #22).
  const realError = console.error;
  const realWarn = console.warn;
  console.error = (...args: unknown[]) =>
    scenario.violate(
      'quiet',
      `console.error(${args
        .map((a) => describeError(a))
        .join(', ')
        .slice(0, 200)}) (issue 11 #22)`,
    );
  console.warn = (...args: unknown[]) =>
    scenario.violate(
      'quiet',
      `console.warn(${args
        .map((a) => describeError(a))
        .join(', ')
        .slice(0, 200)}) (issue 11 #22)`,
    );
  const realRandom = Math.random;
  const jitter = new Rng(seed ^ 0x5eed);
  Math.random = () => jitter.next();
  const savedExceptions = process.listeners('uncaughtException');
  const savedRejections = process.listeners('unhandledRejection');
  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  const onCrash = (kind: string) => (err: unknown) => scenario.violate('no crash', `${kind}: ${describeError(err, 3)}`);
  process.on('uncaughtException', onCrash('uncaughtException'));
  process.on('unhandledRejection', onCrash('unhandledRejection'));
  try {
    await scenario.run();
  } catch (err) {
    scenario.violate('no crash', `the scenario threw: ${describeError(err, 4)}`);
  } finally {
    // Rejections are reported after the microtask queue drains: give them a turn before leaving.
    await settle();
    await settle();
    Math.random = realRandom;
    console.error = realError;
    console.warn = realWarn;
    process.removeAllListeners('uncaughtException');
    process.removeAllListeners('unhandledRejection');
    for (const l of savedExceptions) process.on('uncaughtException', l);
    for (const l of savedRejections) process.on('unhandledRejection', l);
  }
  return { seed, violations: scenario.violations, log: scenario.log };
}
