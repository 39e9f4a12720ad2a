// The restore checks of the reliability property test: a fresh orchestrator started from what the
// store holds must lose nothing any write held, start even from a tampered state, and become idle.
// Each takes the scenario as a RestoreContext (its seeded PRNG, store, archive and reporters), so the
// random draws stay in the scenario's one stream and a seed replays exactly.
import { isFinished, type TaskRecord, type TaskStatus } from '../../src/core/model/model';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { STATE_KEY } from '../../src/core/state/snapshot';
import { ChaosExecutor, FaultyStore, MemoryArchive, steadyExecutor, SteppingClock, type ChaosPayload, type Rng } from './chaos';
import { describeError, jobsOf, tasksOf, within } from './reliabilityProbes';

export const POOLS: Readonly<Record<string, number>> = { gpu: 1, net: 2 };
/** Ways a saved state is tampered with before a crash restore (issue 11 #3, #12, #13). */
const TAMPERS = [
  'resources -1',
  'resources "1"',
  'resources [1]',
  'retries 1e9 of a failing task',
  'self dependency',
  'dependency cycle',
  'corrupt snapshot, silent store',
] as const;

/** What the restore checks read from the scenario and report to it. */
export interface RestoreContext {
  readonly rng: Rng;
  /** The scenario's clock: restores start a little after its time. */
  readonly clock: SteppingClock;
  readonly store: FaultyStore;
  readonly archive: MemoryArchive;
  /** Tasks the user removed: the only ones that may be gone. */
  readonly removed: ReadonlySet<string>;
  /** Last value set per application-state key. */
  readonly appState: ReadonlyMap<string, unknown>;
  violate(invariant: string, detail: string): void;
  note(line: string): void;
  /** A call whose rejection is allowed only as an OrchestratorError. */
  track(what: string, p: Promise<unknown>): void;
}

/** At idle: attempts within retries + 1, and every attempt that only ends by its signal was aborted. */
export function checkAttempts(ctx: RestoreContext, o: OrchestratorImpl, executors: readonly ChaosExecutor[], where: string): void {
  for (const r of o.getTasks()) {
    const allowed = (r.spec.retries ?? 0) + 1;
    if (r.attempts > allowed && r.spec.retries !== undefined && r.spec.retries <= 100)
      ctx.violate('attempts bounded', `${where}${r.id} (${r.name}) made ${r.attempts} attempts, retries ${r.spec.retries}`);
  }
  for (const ex of executors) {
    for (const a of ex.endless) {
      const r = o.getTask(a.taskId);
      if (r && isFinished(r.status) && !a.signal.aborted)
        ctx.violate(
          'attempt stopped',
          `${where}attempt ${a.attempt} (${a.behaviour}) of ${a.taskId} (${r.name}) was never aborted, though the task is ${r.status} (issue 11 #11)`,
        );
    }
  }
}

/** Restores a fresh orchestrator from what the store last committed: nothing any write held may be missing. */
export async function checkRestore(ctx: RestoreContext): Promise<void> {
  const held = new Map<string, TaskStatus>();
  for (const raw of ctx.store.committed) for (const [id, s] of tasksOf(raw)) held.set(id, s);
  const final = tasksOf(ctx.store.durable.get(STATE_KEY));
  const clock = new SteppingClock(ctx.clock.now() + 1000);
  clock.onTimerError = (err) => ctx.violate('no crash', `uncaughtException (a timer callback of the restored orchestrator threw): ${describeError(err, 3)}`);
  const copy = (): FaultyStore => {
    const s = new FaultyStore(ctx.rng, clock, { rejectRate: 0, throwRate: 0, hangRate: 0, hangMs: 0 });
    for (const [k, v] of ctx.store.durable) {
      s.data.set(k, v);
      s.durable.set(k, v);
    }
    return s;
  };
  const options = (store: FaultyStore, archive: MemoryArchive) => ({
    store,
    clock,
    archive,
    concurrency: 4,
    resources: { ...POOLS },
    executors: { chaos: steadyExecutor, late: steadyExecutor },
    killGraceMs: 500,
  });

  if (ctx.rng.chance(0.3) && held.size) {
    // The first read at start throws: whatever the orchestrator does then, the saved tasks must survive.
    ctx.note('restore with a store whose first get throws; schedule one task; dispose');
    const store = copy();
    store.failNextGet();
    const archive = new MemoryArchive();
    const started = await within(createOrchestrator(options(store, archive)), clock);
    if (started.state === 'hung') ctx.violate('no hang', 'createOrchestrator with a store whose first get throws never resolved');
    if (started.state === 'resolved') {
      const o = started.value;
      ctx.track(
        'scheduleTask after a failed read',
        o.scheduleTask({ name: 'after-restart', kind: 'chaos' }).then(() => undefined),
      );
      await within(o.whenIdle(), clock);
      await clock.advance(5000);
      await within(o.dispose(), clock, 60_000);
      const kept = new Set<string>(archive.ids);
      for (const [, v] of store.durable) for (const id of tasksOf(v).keys()) kept.add(id);
      const lost = [...held.keys()].filter((id) => !kept.has(id) && !ctx.archive.ids.has(id) && !ctx.removed.has(id));
      if (lost.length)
        ctx.violate(
          'nothing lost',
          `after a start whose first store.get threw, ${lost.length} saved tasks are in no key of the store (e.g. ${lost.slice(0, 3).join(', ')}): overwritten (issue 11 #6)`,
        );
    }
  }

  ctx.note('restore from the last committed state');
  const archive = new MemoryArchive();
  const started = await within(createOrchestrator(options(copy(), archive)), clock);
  if (started.state !== 'resolved') {
    ctx.violate(
      'restore',
      `createOrchestrator from the last committed state ${started.state === 'hung' ? 'never resolved' : `rejected: ${describeError(started.error)}`}`,
    );
    return;
  }
  const o = started.value;
  const restored = new Map(o.getTasks().map((r) => [r.id, r.status] as const));
  const lost = [...held.keys()].filter((id) => !restored.has(id) && !ctx.archive.ids.has(id) && !archive.ids.has(id) && !ctx.removed.has(id));
  if (lost.length)
    ctx.violate(
      'nothing lost',
      `${lost.length} tasks some committed write held are missing after restore: ${lost
        .slice(0, 5)
        .map((id) => `${id} (last saved ${held.get(id)})`)
        .join(', ')}`,
    );
  for (const [id, s] of final) {
    if (isFinished(s) && restored.has(id) && restored.get(id) !== s) ctx.violate('nothing lost', `${id} was saved ${s} but restored ${restored.get(id)}`);
  }
  for (const [key, value] of ctx.appState) {
    const got = o.state.peek(key);
    if (JSON.stringify(got) !== JSON.stringify(value))
      ctx.violate('nothing lost', `application state ${key} was last set to ${JSON.stringify(value)} but restored as ${JSON.stringify(got)}`);
  }
  if (o.paused) o.resume();
  const idle = await within(o.whenIdle(), clock);
  if (idle.state !== 'resolved')
    ctx.violate(
      'no hang',
      `the restored orchestrator never became idle; unfinished: ${o
        .getTasks()
        .filter((r) => !isFinished(r.status))
        .map((r) => `${r.id} (${r.status})`)
        .join(', ')}`,
    );
  const status = o.getSystemStatus();
  if (status.concurrency.running !== 0) ctx.violate('slots released', `restored: running count is ${status.concurrency.running} at idle`);
  const disposed = await within(o.dispose(), clock, 60_000);
  if (disposed.state === 'hung') ctx.violate('no hang', 'dispose() of the restored orchestrator never resolved');
}

/**
 * A crash at a random committed write: a fresh orchestrator (same misbehaving executors) restores
 * what that write held, unfinished tasks included, and must start, lose nothing and become idle.
 * Sometimes the saved state is tampered with first, as a user, a bug or a disk may leave it.
 */
export async function checkCrashRestore(ctx: RestoreContext): Promise<void> {
  const writes = ctx.store.committed;
  if (writes.length < 2) return;
  const index = ctx.rng.int(0, writes.length - 2);
  const snap = JSON.parse(writes[index]) as { tasks: TaskRecord[] } & Record<string, unknown>;
  const unfinished = snap.tasks.filter((t) => !isFinished(t.status));
  const target = unfinished.length ? ctx.rng.pick(unfinished) : snap.tasks.length ? ctx.rng.pick(snap.tasks) : undefined;
  const tamper = ctx.rng.chance(0.35) && target !== undefined ? ctx.rng.pick(TAMPERS) : undefined;
  const tampered = new Set<string>();
  let raw = writes[index];
  if (tamper !== undefined && target !== undefined) {
    tampered.add(target.id);
    switch (tamper) {
      case 'resources -1':
        target.spec.resources = { gpu: -1 };
        break;
      case 'resources "1"':
        target.spec.resources = { gpu: '1' } as unknown as Record<string, number>;
        break;
      case 'resources [1]':
        target.spec.resources = [1] as unknown as Record<string, number>;
        break;
      case 'retries 1e9 of a failing task':
        target.spec.retries = 1e9;
        target.spec.retryDelayMs = 1;
        if (target.kind !== 'function') target.spec.payload = { plan: ['fail'], delayMs: 1 } satisfies ChaosPayload;
        break;
      case 'self dependency':
        target.dependsOn = [target.id];
        break;
      case 'dependency cycle': {
        const other = snap.tasks.find((t) => t !== target && !isFinished(t.status));
        target.dependsOn = [other?.id ?? target.id];
        if (other) {
          other.dependsOn = [target.id];
          tampered.add(other.id);
        }
        break;
      }
      case 'corrupt snapshot, silent store':
        snap.tasks = 'garbage' as unknown as TaskRecord[];
        break;
    }
    raw = JSON.stringify(snap);
  }
  const held = tasksOf(writes[index]);
  const heldJobs = jobsOf(writes[index]);
  ctx.note(
    `crash at committed write ${index + 1} of ${writes.length} (${held.size} tasks, ${heldJobs.length} unacknowledged jobs)${tamper ? `; tampered: ${tamper} on ${[...tampered].join(', ')}` : ''}`,
  );
  const clock = new SteppingClock(ctx.clock.now() + 2000);
  clock.onTimerError = (err) => ctx.violate('no crash', `uncaughtException (a timer callback after a crash restore threw): ${describeError(err, 3)}`);
  const store = new FaultyStore(ctx.rng, clock, { rejectRate: 0, throwRate: 0, hangRate: 0, hangMs: 0 });
  store.data.set(STATE_KEY, raw);
  store.durable.set(STATE_KEY, raw);
  if (tamper === 'corrupt snapshot, silent store') store.silent = true;
  const archive = new MemoryArchive();
  const chaos = new ChaosExecutor(clock);
  const started = await within(
    createOrchestrator({ store, clock, archive, concurrency: 4, resources: { ...POOLS }, executors: { chaos, late: chaos }, killGraceMs: 500 }),
    clock,
  );
  const what = `createOrchestrator after a crash at write ${index + 1}${tamper ? ` (tampered: ${tamper})` : ''}`;
  if (started.state !== 'resolved') {
    ctx.violate('restore', `${what} ${started.state === 'hung' ? 'never resolved (issue 11 #13)' : `rejected: ${describeError(started.error)} (issue 11 #3)`}`);
    return;
  }
  const o = started.value;
  if (tamper === 'corrupt snapshot, silent store') {
    const disposed = await within(o.dispose(), clock, 60_000);
    if (disposed.state === 'hung') ctx.violate('no hang', 'dispose() with a store that never answers did not resolve within 60 clock seconds (issue 11 #21)');
    return;
  }
  const delivered = new Set<string>();
  if (heldJobs.length) {
    o.queue.subscribe(
      'jobs',
      (m) => {
        delivered.add(m.id);
        return o.queue.acknowledge(m.receipt ?? m.id);
      },
      { name: 'jobs', manualAck: true },
    );
  }
  const restored = new Set(o.getTasks().map((r) => r.id));
  const backedUp = new Set<string>();
  for (const [k, v] of store.durable) if (k !== STATE_KEY) for (const id of tasksOf(v).keys()) backedUp.add(id);
  const lost = [...held.keys()].filter((id) => !restored.has(id) && !(tampered.has(id) && backedUp.has(id)));
  if (lost.length)
    ctx.violate(
      'nothing lost',
      `${what}: ${lost.length} of the ${held.size} saved tasks are missing (e.g. ${lost.slice(0, 4).join(', ')})${tamper ? ' (issue 11 #3/#12)' : ''}`,
    );
  try {
    if (o.paused) o.resume();
  } catch (err) {
    ctx.violate('no crash', `resume() after ${what} threw ${describeError(err, 3)}`);
  }
  const idle = await within(o.whenIdle(), clock);
  if (idle.state !== 'resolved') {
    const stuck = o.getTasks().filter((r) => !isFinished(r.status));
    ctx.violate(
      'no hang',
      `after ${what}, whenIdle() never resolved; unfinished: ${stuck.map((r) => `${r.id} (${r.status}${tampered.has(r.id) ? ', tampered' : ''}, attempts ${r.attempts})`).join(', ')}${tamper ? ' (issue 11 #3/#12)' : ''}`,
    );
  }
  const status = o.getSystemStatus();
  if (status.concurrency.running !== 0) ctx.violate('slots released', `after ${what}: running count is ${status.concurrency.running} at idle`);
  checkAttempts(ctx, o, [chaos], `after ${what}: `);
  await clock.advance(10_000);
  const undelivered = heldJobs.filter((id) => !delivered.has(id));
  if (undelivered.length)
    ctx.violate(
      'nothing lost',
      `after ${what}: ${undelivered.length} of the ${heldJobs.length} unacknowledged jobs it held were never delivered again (e.g. ${undelivered.slice(0, 3).join(', ')})`,
    );
  for (const [name, p] of Object.entries(status.pools))
    if (p.inUse !== 0) ctx.violate('pools released', `after ${what}: pool ${name} has ${p.inUse} in use at idle`);
  const disposed = await within(o.dispose(), clock, 60_000);
  if (disposed.state === 'hung') ctx.violate('no hang', `dispose() after ${what} never resolved`);
}
