// A worker of the fleet (`orchestrator worker`): takes attempts from the BullMQ queues of the pool
// signatures it can hold (queuesFor), runs each through the core's TaskEngine (so timeouts, cancel
// and process-tree kill are the core's), and reports the outcome as the job's return value or its
// failure (protocol.ts). Invariants:
//  - at most `concurrency` attempts at once across all its queues, and never more units of a pool
//    than it has (Capacity): a job that does not fit now is moved back (delayed 250 ms) for another
//    worker or a later moment;
//  - a job of a kind it was not told to run, or of another protocol version, fails `refused`;
//  - a stalled job (its worker lost) fails at once (maxStalledCount 0): retrying is the coordinator's
//    policy, as for a local attempt interrupted by a restart;
//  - a cancel on `cancelChannel` for a job it runs aborts that attempt (the process tree is killed)
//    and the job fails `cancelled`; a cancel that arrives just before the job does is remembered;
//  - it heartbeats its WorkerInfo every HEARTBEAT_MS and removes it on close;
//  - a job whose lock it could not renew (Redis away too long) is stopped and fails INTERRUPTED:
//    BullMQ's stalled check gives it to the coordinator's retry policy, so it must not run on here;
//  - drain(): takes no new job, lets the running ones finish within a grace, then stops them so their
//    jobs fail INTERRUPTED and the coordinator retries them elsewhere;
//  - readiness the coordinator cannot see is watched here, where the attempt runs: a `readyWhen`
//    port or HTTP probe runs on this machine exactly while its attempt runs (disposed when it
//    settles), and it and the executor's reportReady are sent as `{ ready }` progress, in order
//    with the output, `at` strictly increasing per attempt, and sticky (each later output carries
//    it, protocol.ts); nothing is sent for an attempt that has settled.
import { hostname, availableParallelism } from 'node:os';
import { DelayedError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { TaskEngine, type AttemptHandle } from '../../core/engine/engine';
import { errorMessage, fieldError } from '../../core/model/errors';
import type { TaskRecord, TaskResult } from '../../core/model/model';
import { systemClock, type Executor, type ReadyInfo } from '../../core/ports';
import { startReadinessProbe, type ReadinessProbe } from '../../core/services/readinessProbe';
import { Capacity } from './capacity';
import { redisOptions } from './connection';
import { attemptsSettled, whenTlsUntrusted } from './tlsTrust';
import { failureOf } from './failures';
import { OutputBatcher } from './outputBatcher';
import { workerRecord } from './jobWire';
import {
  DEFAULT_PREFIX,
  HEARTBEAT_MS,
  PROTOCOL_VERSION,
  cancelChannel,
  encodeFailure,
  queuesFor,
  workersKey,
  type CancelMessage,
  type JobData,
  type JobFailure,
  type JobReturn,
  type ReadyProgress,
  type WorkerInfo,
} from './protocol';

export interface RedisWorkerOptions {
  url: string;
  password?: string;
  /** PEM of the CA(s) to trust for a `rediss://` URL (connection.ts). */
  ca?: string;
  prefix?: string;
  /** Default hostname-pid. */
  name?: string;
  /** Attempts at once across all queues. Default: the CPUs. */
  concurrency?: number;
  /** The worker's own pools and their units. */
  resources?: Record<string, number>;
  /** Kinds it agrees to run. Default ['shell']. */
  kinds?: string[];
  /** Extra kinds (or replacements of the built-in ones) by name. */
  executors?: Record<string, Executor>;
  /** SIGTERM-to-SIGKILL grace of the shell executor. */
  killGraceMs?: number;
  /** How long an aborted attempt whose work ignores its abort may hold its slot (the engine's bound). Default killGraceMs + 3 s. */
  abortSettleMs?: number;
  /** How long BullMQ's lock on a running job lasts without renewal (a lost worker is noticed after it). Default 10 s. */
  lockDurationMs?: number;
  /** How often the stalled check runs. Default 5 s. */
  stalledIntervalMs?: number;
  onLog?: (line: string) => void;
}

/** How long a job that does not fit now waits before it is offered again. */
export const MOVE_BACK_MS = 250;
/** How long a cancel for a job not (yet) running here is remembered. */
const EARLY_CANCEL_MS = 10_000;

interface Running {
  job: Job<JobData, JobReturn>;
  /** The record the engine runs: its reportReady names it. */
  task: TaskRecord;
  handle: AttemptHandle | undefined;
  /** Set when drain stops it: the job fails INTERRUPTED instead of cancelled. */
  interrupted: boolean;
  output: OutputBatcher;
  /** The `readyWhen` port or HTTP probe watching it on this machine, while it runs. */
  probe: ReadinessProbe | undefined;
  /** Its attempt has settled: nothing more is said of it. */
  settled: boolean;
  /** The `at` of its last `{ ready }`, 0 before one: the next is later. */
  readyAt: number;
}

function checkCount(field: string, value: unknown, min: number): void {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= min)) throw fieldError(field, `an integer >= ${min}`, value);
}

export class RedisWorker {
  private readonly workers: Worker<JobData, JobReturn>[] = [];
  private readonly running = new Map<string, Running>();
  private readonly earlyCancels = new Map<string, { reason: string; at: number }>();
  private readonly capacity: Capacity;
  private readonly kinds: ReadonlySet<string>;
  private heartbeat: NodeJS.Timeout | undefined;
  private draining = false;
  private closed: Promise<void> | undefined;
  private readonly startedAt = Date.now();

  private constructor(
    readonly name: string,
    readonly prefix: string,
    private readonly options: RedisWorkerOptions,
    private readonly engine: TaskEngine,
    private readonly commands: Redis,
    private readonly subscriber: Redis,
    concurrency: number,
    pools: Record<string, number>,
  ) {
    this.capacity = new Capacity(concurrency, pools);
    this.kinds = new Set(options.kinds ?? ['shell']);
  }

  static async start(options: RedisWorkerOptions): Promise<RedisWorker> {
    const connection = redisOptions(options.url, options.password, options.ca === undefined ? {} : { ca: options.ca });
    const concurrency = options.concurrency ?? availableParallelism();
    checkCount('concurrency', concurrency, 1);
    const pools = { ...(options.resources ?? {}) };
    for (const [pool, units] of Object.entries(pools)) checkCount(`resources.${pool}`, units, 1);
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    const queues = queuesFor(prefix, Object.keys(pools));
    const name = options.name ?? `${hostname()}-${process.pid}`;
    const engine = new TaskEngine({
      executors: options.executors,
      killGraceMs: options.killGraceMs,
      abortSettleMs: options.abortSettleMs,
      // Called only after `self` exists: no attempt starts before the queues below take jobs.
      onReady: (task, info) => self.onReportReady(task, info),
    });
    const commands = new Redis(connection);
    const subscriber = new Redis(connection);
    const self = new RedisWorker(name, prefix, options, engine, commands, subscriber, concurrency, pools);
    subscriber.on('message', (_channel: string, message: string) => self.onCancel(message));
    subscriber.on('error', () => undefined);
    commands.on('error', () => undefined);
    // A certificate not trusted fails the start at once (the subscribe below would wait forever).
    const untrusted = whenTlsUntrusted([commands, subscriber], `Redis at ${connection.host ?? '?'}:${connection.port ?? '?'}`);
    try {
      await Promise.race([untrusted.failed, subscriber.subscribe(cancelChannel(prefix))]);
    } catch (err) {
      await attemptsSettled([commands, subscriber]);
      subscriber.disconnect();
      commands.disconnect();
      await engine.dispose();
      throw err;
    } finally {
      untrusted.dispose();
    }
    const lockDuration = options.lockDurationMs ?? 10_000;
    for (const queue of queues) {
      const worker = new Worker<JobData, JobReturn>(queue, (job, token) => self.process(job, token), {
        // ioredis's options interface lacks BullMQ's index signature; the fields are the same.
        connection: connection as ConnectionOptions,
        prefix,
        name,
        concurrency,
        lockDuration,
        stalledInterval: options.stalledIntervalMs ?? Math.max(100, lockDuration / 2),
        maxStalledCount: 0,
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 1000 },
      });
      worker.on('error', (err) => self.log(`queue ${queue}: ${errorMessage(err)}`));
      worker.on('lockRenewalFailed', (ids: string[]) => self.onLockLost(ids));
      self.workers.push(worker);
    }
    await Promise.all(self.workers.map((w) => w.waitUntilReady()));
    await self.beat();
    self.heartbeat = setInterval(() => void self.beat(), HEARTBEAT_MS);
    self.log(`worker ${name} serving ${queues.join(', ')} (concurrency ${concurrency})`);
    return self;
  }

  private log(line: string): void {
    this.options.onLog?.(line);
  }

  /** This worker as the fleet sees it. */
  info(): WorkerInfo {
    const info: WorkerInfo = {
      name: this.name,
      pools: { ...this.capacity.pools },
      kinds: [...this.kinds],
      concurrency: this.capacity.concurrency,
      running: this.running.size,
      startedAt: this.startedAt,
      heartbeatAt: Date.now(),
    };
    if (this.draining) info.draining = true;
    return info;
  }

  private async beat(): Promise<void> {
    try {
      await this.commands.hset(workersKey(this.prefix), this.name, JSON.stringify(this.info()));
    } catch (err) {
      this.log(`heartbeat failed: ${errorMessage(err)}`);
    }
  }

  private onCancel(message: string): void {
    let parsed: Partial<CancelMessage>;
    try {
      parsed = JSON.parse(message) as Partial<CancelMessage>;
    } catch {
      return;
    }
    if (typeof parsed.jobId !== 'string') return;
    const reason = typeof parsed.reason === 'string' ? parsed.reason : 'Cancelled';
    const run = this.running.get(parsed.jobId);
    if (run?.handle) {
      void this.engine.cancelAttempt(run.handle, reason);
      return;
    }
    const now = Date.now();
    for (const [id, early] of this.earlyCancels) if (now - early.at > EARLY_CANCEL_MS) this.earlyCancels.delete(id);
    this.earlyCancels.set(parsed.jobId, { reason, at: now });
  }

  /**
   * Jobs whose lock could not be renewed (Redis was away longer than the lock): BullMQ hands them to
   * its stalled check, which fails them for the coordinator to retry, so running them on here would
   * run them twice. They are stopped and end INTERRUPTED.
   */
  private onLockLost(ids: string[]): void {
    for (const id of ids) {
      const run = this.running.get(id);
      if (!run?.handle || run.interrupted) continue;
      run.interrupted = true;
      this.log(`lost the lock of ${id}: stopping it`);
      void this.engine.cancelAttempt(run.handle, 'The worker lost its lock on the job');
    }
  }

  private refuse(message: string, code: string): Error {
    return new Error(encodeFailure({ kind: 'refused', message, code, worker: this.name }));
  }

  private async process(job: Job<JobData, JobReturn>, token: string | undefined): Promise<JobReturn> {
    const data = job.data as Partial<JobData> | undefined;
    if (data?.v !== PROTOCOL_VERSION) throw this.refuse(`protocol version ${String(data?.v)} is not the ${PROTOCOL_VERSION} it speaks`, 'PROTOCOL');
    const wire = data.task as Partial<JobData['task']> | undefined;
    if (typeof wire?.id !== 'string' || typeof wire.kind !== 'string' || typeof wire.spec !== 'object' || wire.spec === null)
      throw this.refuse('the job carries no task (an id, a kind and a spec)', 'PROTOCOL');
    const task = workerRecord(wire as JobData['task'], data.attempt ?? 1);
    if (!this.kinds.has(task.kind)) throw this.refuse(`it runs kinds ${[...this.kinds].join(', ')}, not \`${task.kind}\``, 'KIND');
    const jobKey = job.id ?? '';
    const early = this.earlyCancels.get(jobKey);
    if (early) {
      this.earlyCancels.delete(jobKey);
      throw new Error(encodeFailure({ kind: 'cancelled', message: early.reason, worker: this.name }));
    }
    const need = task.spec?.resources ?? {};
    if (!this.capacity.fits(need)) throw this.refuse(`it has pools ${JSON.stringify(this.capacity.pools)}, the task needs ${JSON.stringify(need)}`, 'POOLS');
    if (this.draining || !this.capacity.take(need)) {
      await job.moveToDelayed(Date.now() + MOVE_BACK_MS, token);
      throw new DelayedError();
    }
    const output = new OutputBatcher(
      (progress) => job.updateProgress(progress),
      (err) => this.log(`output of ${jobKey}: ${errorMessage(err)}`),
    );
    const run: Running = { job, task, handle: undefined, interrupted: false, output, probe: undefined, settled: false, readyAt: 0 };
    this.running.set(jobKey, run);
    try {
      const result = await new Promise<TaskResult>((resolve, reject) => {
        run.handle = this.engine.startAttempt(
          task,
          data.attempt ?? 1,
          data.timeoutMs,
          undefined,
          (chunk) => output.push(chunk),
          (r, error) => {
            this.attemptSettled(run);
            if (error === undefined) resolve(r ?? {});
            else reject(error);
          },
        );
        if (run.handle && !run.settled) this.startProbe(run, jobKey);
      });
      await output.flush();
      const ret: JobReturn = { result: { ...result, worker: this.name }, worker: this.name };
      if (typeof task.createdAt === 'number') ret.createdAt = task.createdAt;
      return ret;
    } catch (error) {
      await output.flush();
      const failure: JobFailure = run.interrupted
        ? {
            kind: 'execution',
            message: `Worker \`${this.name}\` stopped it (draining, or its lock on the job was lost)`,
            code: 'INTERRUPTED',
            worker: this.name,
          }
        : failureOf(error, this.name);
      throw new Error(encodeFailure(failure), { cause: error });
    } finally {
      this.attemptSettled(run);
      this.running.delete(jobKey);
      this.capacity.give(need);
    }
  }

  /** A `readyWhen` port or URL is on this machine: it is probed here (an output pattern is the coordinator's). */
  private startProbe(run: Running, jobKey: string): void {
    const readyWhen = run.task.spec?.readyWhen;
    if (typeof readyWhen !== 'object' || readyWhen === null || 'output' in readyWhen) return;
    try {
      run.probe = startReadinessProbe(readyWhen, () => this.sendReady(run, undefined), systemClock);
    } catch (err) {
      // The coordinator validated it; one that still cannot be probed is left to its readiness timeout.
      this.log(`readiness probe of ${jobKey}: ${errorMessage(err)}`);
    }
  }

  private attemptSettled(run: Running): void {
    run.settled = true;
    run.probe?.dispose();
    run.probe = undefined;
  }

  /** The engine's ReadyCallback: an executor's reportReady for the attempt running `task`. */
  private onReportReady(task: TaskRecord, info: ReadyInfo | undefined): void {
    for (const run of this.running.values()) if (run.task === task) return this.sendReady(run, info);
  }

  private sendReady(run: Running, info: ReadyInfo | undefined): void {
    if (run.settled) return;
    // Strictly increasing: the coordinator tells a new signal from a sticky copy by `at` (protocol.ts).
    run.readyAt = Math.max(Date.now(), run.readyAt + 1);
    const ready: ReadyProgress['ready'] = { at: run.readyAt };
    if (info?.problems !== undefined) ready.problems = info.problems;
    void run.output.post({ ready });
  }

  /** Attempts running here now. */
  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Stops taking jobs, lets the running ones finish within `graceMs`, then stops the rest (their
   * jobs fail INTERRUPTED, for the coordinator to retry). Resolves once none runs here.
   */
  async drain(graceMs = 30_000): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      await Promise.all(this.workers.map((w) => w.pause(true)));
      await this.beat();
    }
    const deadline = Date.now() + graceMs;
    while (this.running.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const left = [...this.running.values()];
    for (const run of left) {
      run.interrupted = true;
      if (run.handle) void this.engine.cancelAttempt(run.handle, 'The worker is draining');
    }
    while (this.running.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Drains without grace if not drained, removes its heartbeat and closes every connection. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.drain(0);
      if (this.heartbeat) clearInterval(this.heartbeat);
      await Promise.all(this.workers.map((w) => w.close()));
      await this.engine.dispose();
      try {
        await this.commands.hdel(workersKey(this.prefix), this.name);
      } catch {
        // Redis gone: the heartbeat goes stale on its own.
      }
      this.subscriber.disconnect();
      this.commands.disconnect();
    })();
    return this.closed;
  }
}
