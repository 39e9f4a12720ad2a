// The coordinator's side of the fleet: the core's execution port (a RemoteExecution) on BullMQ.
// Each attempt becomes one job (protocol.ts) in the queue of its pool signature; the queue's
// QueueEvents (one per queue, made on first use) drive the outcome. Invariants:
//  - `done` is called once per `start`, never inside it (refusals go through a microtask);
//  - the job's own events decide success or failure; a cancel or a timeout decided here wins, and is
//    reported when the worker confirms or after `abortSettleMs` at the latest (RemoteAttempt);
//  - nothing is lost while Redis is down: commands wait in ioredis's offline queue
//    (`maxRetriesPerRequest: null`) and go out on reconnect; `start` never throws; an outage is
//    warned once, and its end once (redisLink.ts); a TLS certificate not trusted is no outage:
//    `connect` rejects with RedisTlsError, and after a connect it is warned by its name (tlsTrust.ts);
//  - a job whose worker stops heartbeating (WORKER_STALE_MS) while running it fails INTERRUPTED
//    here, even when no other worker is left to run BullMQ's stalled check (workerWatch.ts);
//  - the worker running an attempt is told to `onWorker` once, before its `done`: from its job's
//    `processedBy` within HEARTBEAT_MS of its start, or from a failure or an outcome decided here
//    (cancel, timeout), whichever comes first; a completion names it in its result instead, so the
//    hot path pays no extra change per task;
//  - a QueueEvents reads its stream from the id that was last before the queue's first job was added
//    here, so no event of a job added here is missed;
//  - a worker's `{ ready }` progress (its port or HTTP probe, its executor's reportReady) goes to
//    `onReady` only for a live attempt of ours: not yet reported, not another run's (`foreign`),
//    and once per `ready.at` (a sticky copy beside later output is no new signal, protocol.ts);
//  - a re-attached attempt whose job's last progress says Ready is Ready, unless its record is
//    already: a Ready its worker sent while no coordinator listened is not lost;
//  - a completed job is removed from Redis at once (no per-job trim of a kept set); its outcome is in
//    the events stream, for the QueueEvents and for a re-attach after it (completedInStream.ts);
//  - an outcome whose event was never read (a stream trimmed past it) is found by the watchdog's look
//    at the jobs (outcomeAudit.ts), or the attempt fails INTERRUPTED: none stays unreported.
import { hostname } from 'node:os';
import type { Disposable } from '../../core/util/events';
import { Job, type QueueEvents } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { ExecutionHandle, OutcomeCallback, OutputCallback, StartArgs } from '../../core/execution/executionPort';
import type { RemoteExecution } from '../../core/execution/routedExecution';
import { CancelledError, ExecutionError, OrchestratorError, TimeoutError, errorMessage, fieldError } from '../../core/model/errors';
import type { TaskRecord, TaskResult, TaskSpec } from '../../core/model/model';
import type { ReadyInfo } from '../../core/ports';
import { redisOptions } from './connection';
import { readyOrUntrusted } from './tlsTrust';
import { RedisLink } from './redisLink';
import { errorOf } from './failures';
import { fleetStatus, type FleetStatus } from './fleetStatus';
import { isJobReturn, safeParse, wireTask } from './jobWire';
import { CLOSE_BOUND_MS, bounded, openLane, type Lane } from './queueLane';
import { RemoteAttempt } from './remoteAttempt';
import { WorkerWatch } from './workerWatch';
import { OutcomeAudit } from './outcomeAudit';
import { onDuplicated, replace, type DuplicateHandling } from './duplicateJobs';
import {
  DEFAULT_PREFIX,
  HEARTBEAT_MS,
  PROTOCOL_VERSION,
  bullPriority,
  cancelChannel,
  decodeFailure,
  jobId,
  queueName,
  readyInfo,
  type CancelMessage,
  type JobData,
  type JobReturn,
} from './protocol';

export interface RedisExecutionOptions {
  url: string;
  password?: string;
  /** PEM of the CA(s) to trust for a `rediss://` URL (connection.ts). */
  ca?: string;
  prefix?: string;
  /** Kinds sent to the fleet. Default ['shell']. */
  kinds?: string[];
  /** The coordinator's name in the jobs it adds. Default hostname:pid. */
  name?: string;
  /** Where an outage and its end are told. */
  onWarn?: (message: string) => void;
  /** How long a cancelled or timed-out attempt waits for its worker's confirmation before it is reported anyway. Default 2000 ms. */
  abortSettleMs?: number;
}

const LOST_OUTCOME = 'Its outcome is lost: Redis holds neither its job nor its completion (the events stream was trimmed past it)';

/** Failed jobs kept per queue (for `fleet()`'s counts and a look); a completed job is removed at once. */
const KEEP_FAILED = { count: 1000 };

export class RedisExecution implements RemoteExecution {
  readonly kinds: ReadonlySet<string>;
  readonly prefix: string;
  readonly name: string;
  private readonly attempts = new Map<string, RemoteAttempt>();
  /** The `ready.at` last taken as a ready signal of each attempt (protocol.ts, the sticky rule). */
  private readonly readySeen = new WeakMap<RemoteAttempt, unknown>();
  private readonly lanes = new Map<string, Lane>();
  private readonly abortSettleMs: number;
  private disposed = false;
  /** Whether Redis answers, and the outage warnings (redisLink.ts). */
  private readonly link: RedisLink;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly workerWatch: WorkerWatch;
  private readonly audit: OutcomeAudit;
  /** A job id found taken (duplicateJobs.ts). */
  private readonly duplicates: DuplicateHandling = {
    queueOf: (a) => this.lane(a.queue).queue,
    add: (a) => this.add(a),
    started: (a) => this.onActive(a),
  };
  /** See RemoteExecution.onReady, onWorker and onStarted: set by the orchestrator using this port. */
  onReady: ((task: TaskRecord, info: ReadyInfo | undefined) => void) | undefined;
  onWorker: ((task: TaskRecord, worker: string) => void) | undefined;
  /** Jobs wait in their queue until a worker takes one: the orchestrator keeps the task Scheduled until onStarted. */
  readonly startsLater = true;
  onStarted: ((task: TaskRecord) => void) | undefined;

  private constructor(
    private readonly options: RedisExecutionOptions,
    private readonly connection: RedisOptions,
    private readonly commands: Redis,
  ) {
    this.kinds = new Set(options.kinds ?? ['shell']);
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.abortSettleMs = options.abortSettleMs ?? 2000;
    const where = `Redis at ${connection.host ?? '?'}:${connection.port ?? '?'}`;
    this.link = new RedisLink(
      commands,
      where,
      (message) => this.warn(message),
      () => this.disposed,
    );
    this.audit = new OutcomeAudit(commands, (q) => this.lane(q), {
      completed: (a, returnvalue) => void this.onCompleted(a, returnvalue),
      failed: (a, failedReason) => this.onFailed(a, failedReason),
      lost: (a) => a.report(undefined, new ExecutionError(LOST_OUTCOME, undefined, 'INTERRUPTED')),
    });
    const holder = async (a: RemoteAttempt) => (await Job.fromId<JobData, JobReturn>(this.lane(a.queue).queue, a.jobId))?.processedBy;
    this.workerWatch = new WorkerWatch(
      commands,
      this.prefix,
      this.kinds,
      holder,
      (a, worker) => this.named(a, worker),
      (message) => this.warn(message),
    );
  }

  /**
   * Connects (waiting up to `readyWithinMs` for Redis; an unreachable one is warned and retried in the
   * background). Rejects with RedisTlsError, leaving nothing open, when its TLS certificate is not trusted.
   */
  static async connect(options: RedisExecutionOptions, readyWithinMs = 5000): Promise<RedisExecution> {
    // Every refusal comes before a connection is opened: a refused call leaves nothing behind.
    const connection = redisOptions(options.url, options.password, options.ca === undefined ? {} : { ca: options.ca });
    if (options.abortSettleMs !== undefined && !(options.abortSettleMs >= 0)) throw fieldError('abortSettleMs', 'a non-negative number', options.abortSettleMs);
    if (options.kinds !== undefined && !(Array.isArray(options.kinds) && options.kinds.every((k) => typeof k === 'string' && k !== '')))
      throw fieldError('kinds', 'an array of non-empty strings', options.kinds);
    const commands = new Redis(connection);
    const self = new RedisExecution(options, connection, commands);
    self.watchdog = setInterval(() => void self.checkWorkers(), HEARTBEAT_MS);
    self.watchdog.unref();
    try {
      await readyOrUntrusted(commands, self.link.where, readyWithinMs);
      await self.checkWorkers();
    } catch (err) {
      await self.dispose();
      throw err;
    } finally {
      self.link.connecting = false;
    }
    return self;
  }

  private warn(message: string): void {
    this.options.onWarn?.(message);
  }

  /** True while Redis answers: the orchestrator starts nothing new while it is false (ready tasks wait in Scheduled). */
  get available(): boolean {
    return this.link.connected;
  }

  onDidChangeAvailability(listener: (available: boolean) => void): Disposable {
    return this.link.onDidChangeAvailability(listener);
  }

  /** Whether the command connection is up now. */
  get connected(): boolean {
    return this.link.connected;
  }

  private lane(name: string): Lane {
    let lane = this.lanes.get(name);
    if (!lane) {
      lane = openLane(
        name,
        this.prefix,
        this.commands,
        this.connection,
        (events) => this.listen(events),
        () => this.disposed,
      );
      this.lanes.set(name, lane);
    }
    return lane;
  }

  private listen(events: QueueEvents): void {
    events.on('error', () => undefined);
    events.on('active', ({ jobId: id }) => {
      const a = this.attempts.get(id);
      if (a) this.onActive(a);
    });
    events.on('progress', ({ jobId: id, data }) => {
      const a = this.attempts.get(id);
      if (!a || a.reported || a.foreign || typeof data !== 'object' || data === null) return;
      const { output, ready } = data as { output?: unknown; ready?: unknown };
      if (typeof output === 'string') a.onOutput?.(output);
      if (typeof ready === 'object' && ready !== null) this.readySignal(a, ready, true);
    });
    events.on('completed', ({ jobId: id, returnvalue }) => {
      const a = this.attempts.get(id);
      if (a) void this.onCompleted(a, returnvalue as unknown);
    });
    events.on('failed', ({ jobId: id, failedReason }) => {
      const a = this.attempts.get(id);
      if (a) this.onFailed(a, failedReason);
    });
    events.on('duplicated', ({ jobId: id }) => {
      const a = this.attempts.get(id);
      if (a) onDuplicated(this.duplicates, a).catch(() => undefined);
    });
  }

  /** A progress's `ready`: told to onReady (if `tell`) only when its `at` is not the last one seen for the attempt. */
  private readySignal(a: RemoteAttempt, ready: object, tell: boolean): void {
    const at = (ready as { at?: unknown }).at;
    if (this.readySeen.has(a) && this.readySeen.get(a) === at) return;
    this.readySeen.set(a, at);
    if (tell) this.onReady?.(a.task, readyInfo(ready));
  }

  private onActive(a: RemoteAttempt): void {
    if (a.active || a.reported || a.foreign) return;
    a.active = true;
    a.activeAt = Date.now();
    this.onStarted?.(a.task);
    const limit = a.timeoutMs;
    // The worker enforces the limit from its own start; this is the backstop for a worker that cannot.
    if (limit !== undefined && limit > 0 && limit !== Infinity && !a.decided) {
      a.timer = setTimeout(() => {
        a.decide(new TimeoutError(limit), this.abortSettleMs);
        void this.publishCancel(a, `Timed out after ${limit} ms`);
      }, limit);
    }
  }

  /**
   * The watchdog's tick: counts the fleet's slots, names running attempts' workers, fails lost ones,
   * warns of jobs no worker takes (workerWatch.ts), and finds outcomes whose events were lost (outcomeAudit.ts).
   */
  private async checkWorkers(): Promise<void> {
    if (!this.connected) return;
    await this.workerWatch.tick(this.attempts.values()).catch(() => undefined);
    await this.audit.tick(this.attempts.values()).catch(() => undefined);
  }

  /** See RemoteExecution.slots (workerWatch.ts). */
  get slots(): number {
    return this.workerWatch.slots;
  }

  onDidChangeSlots(listener: (slots: number) => void): Disposable {
    return this.workerWatch.onDidChangeSlots(listener);
  }

  /** Tells onWorker the worker running `a` (BullMQ's own reasons name 'unknown'), once, while its outcome is not reported. */
  private named(a: RemoteAttempt, worker: string | undefined): void {
    if (worker === undefined || worker === 'unknown' || a.worker === worker || a.reported || a.foreign) return;
    a.worker = worker;
    this.onWorker?.(a.task, worker);
  }

  private async onCompleted(a: RemoteAttempt, returnvalue: unknown): Promise<void> {
    if (a.foreign) return replace(this.duplicates, a);
    let value = typeof returnvalue === 'string' ? safeParse(returnvalue) : returnvalue;
    if (!isJobReturn(value)) {
      const job = await Job.fromId<JobData, JobReturn>(this.lane(a.queue).queue, a.jobId).catch(() => undefined);
      value = job?.returnvalue;
    }
    const ret = isJobReturn(value) ? value : undefined;
    if (a.decided) {
      this.named(a, ret?.worker);
      return a.report(undefined, a.decided);
    }
    const result: TaskResult = { ...(ret?.result ?? {}) };
    if (ret) result.worker = ret.result.worker ?? ret.worker;
    a.report(result, undefined);
  }

  private onFailed(a: RemoteAttempt, failedReason: string): void {
    if (a.foreign) return void replace(this.duplicates, a).catch(() => undefined);
    const failure = decodeFailure(failedReason);
    this.named(a, failure.worker);
    if (a.decided) return a.report(undefined, a.decided);
    a.report(undefined, errorOf(failure, a.timeoutMs));
  }

  start(
    task: TaskRecord,
    attempt: number,
    timeoutMs: number | undefined,
    _run: TaskSpec['run'],
    onOutput: OutputCallback | undefined,
    done: OutcomeCallback,
  ): ExecutionHandle | undefined {
    return this.begin(task, attempt, timeoutMs, onOutput, done, (a) => this.add(a));
  }

  /** See RemoteExecution.resume: the job an earlier session queued for this attempt is followed; without one, it is queued. */
  resume(...[task, attempt, timeoutMs, , onOutput, done]: StartArgs): ExecutionHandle | undefined {
    return this.begin(task, attempt, timeoutMs, onOutput, done, (a) => this.follow(a, true));
  }

  /** A new attempt, after the checks (a refusal is told to `done`, never inside), handed to `send`. */
  private begin(
    task: TaskRecord,
    attempt: number,
    timeoutMs: number | undefined,
    onOutput: OutputCallback | undefined,
    done: OutcomeCallback,
    send: (a: RemoteAttempt) => Promise<void>,
  ): ExecutionHandle | undefined {
    const refuse = (error: Error): undefined => void queueMicrotask(() => done(undefined, error, task));
    if (this.disposed) return refuse(new OrchestratorError('DISPOSED', 'The Redis execution is disposed'));
    if (!this.kinds.has(task.kind)) {
      return refuse(new ExecutionError(`The fleet runs kinds ${[...this.kinds].join(', ')}, not \`${task.kind}\``, undefined, 'UNKNOWN_KIND'));
    }
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) return refuse(fieldError('timeoutMs', 'a positive number', timeoutMs));
    const id = jobId(task.id, attempt);
    if (this.attempts.has(id))
      return refuse(new ExecutionError(`Attempt ${attempt} of task \`${task.id}\` is already running`, undefined, 'TASK_ALREADY_RUNNING'));
    const queue = queueName(this.prefix, Object.keys(task.spec.resources ?? {}));
    const limit = timeoutMs === 0 || timeoutMs === Infinity ? undefined : timeoutMs;
    const a = new RemoteAttempt(task, attempt, id, queue, limit, onOutput, done, (x) => this.attempts.delete(x.jobId));
    this.attempts.set(id, a);
    a.added = send(a).catch((err: unknown) => {
      // Only a refusal by BullMQ itself gets here (Redis down only delays the add).
      a.report(undefined, new ExecutionError(`Could not queue the job: ${errorMessage(err)}`, undefined, 'QUEUE_REFUSED'));
    });
    return a;
  }

  private async add(a: RemoteAttempt): Promise<void> {
    const lane = this.lane(a.queue);
    await lane.ready;
    if (a.reported) return;
    const data: JobData = { v: PROTOCOL_VERSION, task: wireTask(a.task), attempt: a.attempt, coordinator: this.name };
    if (a.timeoutMs !== undefined) data.timeoutMs = a.timeoutMs;
    await lane.adds.add(a.task.name, data, {
      jobId: a.jobId,
      priority: bullPriority(a.task.priority),
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: KEEP_FAILED,
    });
    a.inRedis = true;
  }

  private async publishCancel(a: RemoteAttempt, reason: string): Promise<void> {
    const message: CancelMessage = { jobId: a.jobId, reason };
    try {
      await this.commands.publish(cancelChannel(this.prefix), JSON.stringify(message));
    } catch {
      // Redis gone: the abort bound reports the attempt; its job fails on its own.
    }
  }

  cancel(handle: ExecutionHandle, reason?: string): Promise<void> {
    const a = handle as RemoteAttempt;
    if (a.reported) return a.settled;
    const error = new CancelledError(reason ?? 'Cancelled');
    a.decide(error, this.abortSettleMs);
    if (a.decided === error) void this.stop(a, error.message);
    return a.settled;
  }

  /**
   * A job not locked by a worker (waiting, or moved back by one) is removed: nothing runs it any
   * more. A locked one is running: its worker is asked to stop it.
   */
  private async stop(a: RemoteAttempt, reason: string): Promise<void> {
    await a.added;
    if (a.reported) return;
    // The job of that id is another run's: nothing of this attempt runs anywhere yet.
    if (a.foreign) return a.report(undefined, a.decided);
    const removed = await this.lane(a.queue)
      .queue.remove(a.jobId)
      .catch(() => 0);
    if (removed === 1) return a.report(undefined, a.decided);
    await this.publishCancel(a, reason);
  }

  /**
   * Follows attempt `attempt` of `task`, started by an earlier coordinator (before a window reload),
   * instead of starting it again: its outcome is reported through `done` as for `start`, at once if
   * the job has already finished (a completed one from the events stream); a job Redis no longer
   * holds, nor its completion, fails INTERRUPTED. undefined (and
   * `done` told why) as `start` would.
   */
  reattach(task: TaskRecord, attempt: number, onOutput: OutputCallback | undefined, done: OutcomeCallback): ExecutionHandle | undefined {
    const refuse = (error: Error): undefined => void queueMicrotask(() => done(undefined, error, task));
    if (this.disposed) return refuse(new OrchestratorError('DISPOSED', 'The Redis execution is disposed'));
    const id = jobId(task.id, attempt);
    if (this.attempts.has(id))
      return refuse(new ExecutionError(`Attempt ${attempt} of task \`${task.id}\` is already followed`, undefined, 'TASK_ALREADY_RUNNING'));
    const queue = queueName(this.prefix, Object.keys(task.spec.resources ?? {}));
    const a = new RemoteAttempt(task, attempt, id, queue, undefined, onOutput, done, (x) => this.attempts.delete(x.jobId));
    this.attempts.set(id, a);
    a.added = this.follow(a).catch((err: unknown) =>
      a.report(undefined, new ExecutionError(`Could not follow the job: ${errorMessage(err)}`, undefined, 'INTERRUPTED')),
    );
    return a;
  }

  /**
   * Reads the job's state after its lane listens, so an outcome is either in the state or in a later
   * event. `orQueue` (a resume): with no job of this record and no completion of it, the attempt is queued.
   */
  private async follow(a: RemoteAttempt, orQueue = false): Promise<void> {
    const lane = this.lane(a.queue);
    await lane.ready;
    const job = await Job.fromId<JobData, JobReturn>(lane.queue, a.jobId);
    if (a.reported) return;
    if (!job) {
      const returned = await lane.completed.find(a.jobId, a.task.createdAt);
      if (returned !== undefined) return this.onCompleted(a, returned);
      if (orQueue) return this.add(a);
      return a.report(undefined, new ExecutionError('Redis holds no job for this attempt any more', undefined, 'INTERRUPTED'));
    }
    // Another session's job of that id: queuing this one goes through the duplicate's handling.
    if (orQueue && (job.data as Partial<JobData> | undefined)?.task?.createdAt !== a.task.createdAt) return this.add(a);
    a.inRedis = true;
    const state = await job.getState();
    if (state === 'completed') return this.onCompleted(a, job.returnvalue);
    if (state === 'failed') return this.onFailed(a, job.failedReason);
    if (state !== 'active') return;
    this.onActive(a);
    this.named(a, job.processedBy);
    // The job's last progress: Ready sticks in it (protocol.ts), also when it was sent during the reload.
    const ready = (job.progress as { ready?: unknown } | null | undefined)?.ready;
    if (typeof ready === 'object' && ready !== null && !a.reported && !a.foreign) this.readySignal(a, ready, a.task.ready === undefined);
  }

  /**
   * Lets go of every attempt without stopping it (the host is going away, e.g. a window reload): the
   * jobs go on on their workers for a later coordinator to re-attach; no `done` is called. Then as dispose.
   */
  async detach(): Promise<void> {
    for (const a of this.attempts.values()) {
      clearTimeout(a.timer);
      clearTimeout(a.settleTimer);
    }
    this.attempts.clear();
    await this.dispose();
  }

  private disposing: Promise<void> | undefined;

  /** See the port's contract; with Redis down, each BullMQ object gets CLOSE_BOUND_MS to close before it is let go. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      this.disposed = true;
      clearInterval(this.watchdog);
      await Promise.all([...this.attempts.values()].map((a) => this.cancel(a, 'The Redis execution was disposed')));
      await Promise.all(
        [...this.lanes.values()].map(async (lane) => {
          if (lane.events) await bounded(lane.events.close(), CLOSE_BOUND_MS);
          await bounded(lane.queue.close(), CLOSE_BOUND_MS);
        }),
      );
      this.commands.disconnect();
    })();
    return this.disposing;
  }

  /** The fleet as the dashboard shows it: live workers and the counts of every queue they or this coordinator use. */
  fleet(): Promise<FleetStatus> {
    return fleetStatus(this.commands, this.prefix, this.connected, [...this.lanes.keys()]);
  }
}
