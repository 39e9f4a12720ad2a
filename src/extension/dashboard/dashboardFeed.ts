// The host's half of the dashboard protocol, without 'vscode' (the panel in dashboardPanel.ts wires
// it to a real webview), so its rules are tested in plain Node with a fake clock:
// - nothing is posted before the webview says `ready`, nor after it is hidden (a hidden panel's page
//   is torn down: VS Code keeps no context for it, and it sends `ready` again when shown);
// - nothing is computed while hidden: no timer runs and task changes are ignored;
// - at most one message per `minIntervalMs`, however many tasks change; a slower tick keeps the time
//   series moving when nothing changes;
// - after the first snapshot, only the sections that changed are posted, each patch naming the seq
//   it applies on; the webview asks for a `resync` when one does not fit;
// - with the redis backend, the fleet is read at most once per `fleetPollMs`, one read at a time,
//   and only while the page is visible and ready (a read is a few Redis round trips).
import type { Disposable } from '../../core/util/events';
import { diffSnapshot } from '../../dashboardProtocol/dashboardDiff';
import { PROTOCOL_VERSION, parseWebviewMessage, type DashboardSnapshot, type FleetSection, type HostMessage } from '../../dashboardProtocol/protocol';
import type { FleetStatus } from '../../backends/redis/fleetStatus';
import { FailureLog, ServiceLog, buildSnapshot, fleetSection, type DashboardSource } from './dashboardData';
import { CacheTally, RunLog } from './timeline';

/** The redis backend's fleet, as the dashboard reads it. */
export interface FleetSource {
  read(): Promise<FleetStatus>;
  /** The Redis, without its password. */
  url: string;
}

export interface FeedTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realTimers: FeedTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
};

export interface FeedOptions {
  source: DashboardSource;
  post(message: HostMessage): void;
  revealTask(id: string): void;
  /** Shortest gap between two posts. Default 250 ms: four updates a second at most. */
  minIntervalMs?: number;
  /** Refresh while nothing changes, so the time series roll. Default 1000 ms (the monitor's bucket). */
  tickMs?: number;
  /** The redis backend's fleet; absent with the local backend (the page then shows no Workers section). */
  fleet?: FleetSource;
  /** Shortest gap between the starts of two fleet reads. Default 1000 ms. */
  fleetPollMs?: number;
  timers?: FeedTimers;
}

/** What the feed has done, for tests and diagnostics. Message types only, newest last, bounded. */
export interface FeedState {
  visible: boolean;
  ready: boolean;
  seq: number;
  lastApplied: number;
  posted: string[];
  received: string[];
  /** Every message by type since the panel opened (the lists above keep only the latest). */
  postedCounts: Record<string, number>;
  receivedCounts: Record<string, number>;
  rejected: number;
  builds: number;
  /** The last snapshot the webview holds (after the last post), if any. */
  last: DashboardSnapshot | undefined;
  /** Fleet reads begun since the panel opened. */
  fleetReads: number;
}

const LOG_LIMIT = 50;

export class DashboardFeed implements Disposable {
  private readonly timers: FeedTimers;
  private readonly minIntervalMs: number;
  private readonly tickMs: number;
  private readonly failures = new FailureLog();
  private readonly services = new ServiceLog();
  private readonly runs = new RunLog();
  private readonly cache = new CacheTally();
  /** The run the page picked in the timeline; undefined follows the newest. Kept across page reloads while the panel lives. */
  private selectedRun: string | undefined;
  private readonly subscription: Disposable;
  private visible = false;
  private ready = false;
  private seq = 0;
  private lastApplied = 0;
  /** What the webview holds; undefined means the next post is a full snapshot. */
  private last: DashboardSnapshot | undefined;
  private lastPostAt = -Infinity;
  private pending: unknown;
  private ticker: unknown;
  private disposed = false;
  private fleet: FleetSection | null;
  private fleetTimer: unknown;
  private fleetReading = false;
  private fleetReads = 0;
  private readonly log = {
    posted: [] as string[],
    received: [] as string[],
    postedCounts: {} as Record<string, number>,
    receivedCounts: {} as Record<string, number>,
    rejected: 0,
    builds: 0,
  };

  constructor(private readonly options: FeedOptions) {
    this.timers = options.timers ?? realTimers;
    this.minIntervalMs = options.minIntervalMs ?? 250;
    this.tickMs = options.tickMs ?? 1000;
    this.fleet = options.fleet ? { url: options.fleet.url, connected: false, workers: [], queues: [] } : null;
    this.subscription = options.source.onDidChangeTask((record) => {
      if (!this.live) return;
      this.failures.observe(record);
      this.services.observe(record);
      this.runs.observe(record);
      this.cache.observe(record);
      this.schedule();
    });
  }

  private get live(): boolean {
    return this.visible && this.ready && !this.disposed;
  }

  setVisible(visible: boolean): void {
    if (this.disposed || visible === this.visible) return;
    this.visible = visible;
    if (!visible) {
      // The page is gone; whatever it held is lost. Wait for its next `ready`.
      this.ready = false;
      this.last = undefined;
      this.stop();
    } else if (this.ready) {
      // The new page said `ready` before VS Code told us the panel was visible.
      this.start();
    }
  }

  /** A message from the webview, still unvalidated. */
  receive(raw: unknown): void {
    if (this.disposed) return;
    const message = parseWebviewMessage(raw);
    if (!message) {
      this.log.rejected++;
      return;
    }
    push(this.log.received, this.log.receivedCounts, message.type);
    switch (message.type) {
      case 'ready':
        if (message.protocol !== PROTOCOL_VERSION) {
          // A page from another build (a stale cached webview) gets nothing it could misread.
          this.log.rejected++;
          return;
        }
        this.ready = true;
        this.last = undefined;
        if (this.visible) this.start();
        return;
      case 'applied':
        if (message.seq <= this.seq) this.lastApplied = message.seq;
        return;
      case 'resync':
        this.last = undefined;
        this.schedule();
        return;
      case 'revealTask':
        this.options.revealTask(message.taskId);
        return;
      case 'selectRun':
        this.selectedRun = message.runId || undefined;
        this.schedule();
        return;
      case 'rejected':
        // The page dropped something we sent: our builder and its validator disagree. Said once, in
        // the extension host log; the count is in state() for tests.
        if (this.log.receivedCounts.rejected === 1) console.warn(`[orchestrator] the dashboard page rejected a message: ${message.what}`);
        return;
    }
  }

  state(): FeedState {
    return {
      visible: this.visible,
      ready: this.ready,
      seq: this.seq,
      lastApplied: this.lastApplied,
      posted: [...this.log.posted],
      received: [...this.log.received],
      postedCounts: { ...this.log.postedCounts },
      receivedCounts: { ...this.log.receivedCounts },
      rejected: this.log.rejected,
      builds: this.log.builds,
      last: this.last,
      fleetReads: this.fleetReads,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stop();
    this.subscription.dispose();
  }

  private schedule(): void {
    if (!this.live || this.pending !== undefined) return;
    const wait = Math.max(0, this.lastPostAt + this.minIntervalMs - this.timers.now());
    this.pending = this.timers.setTimeout(() => {
      this.pending = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (!this.live) return;
    if (this.pending !== undefined) {
      this.timers.clearTimeout(this.pending);
      this.pending = undefined;
    }
    this.log.builds++;
    const at = this.timers.now();
    const next = buildSnapshot(this.options.source, this.failures, this.fleet, this.services, {
      runs: this.runs,
      cache: this.cache,
      selectedRun: this.selectedRun,
      now: at,
    });
    if (this.last === undefined) {
      this.send({ type: 'snapshot', seq: this.seq + 1, at, data: next });
    } else {
      const patch = diffSnapshot(this.last, next);
      if (!patch) return;
      this.send({ type: 'patch', seq: this.seq + 1, base: this.seq, at, data: patch });
    }
    this.last = next;
  }

  private send(message: HostMessage): void {
    this.seq = message.seq;
    this.lastPostAt = this.timers.now();
    push(this.log.posted, this.log.postedCounts, message.type);
    this.options.post(message);
  }

  /** Begins feeding a page that is ready and visible: a full snapshot now, then patches. */
  private start(): void {
    const tasks = this.options.source.getTasks();
    this.failures.reset(tasks);
    this.services.reset(tasks);
    this.runs.reset(tasks);
    this.cache.reset(tasks);
    this.flush();
    if (this.ticker === undefined) this.ticker = this.timers.setInterval(() => this.schedule(), this.tickMs);
    this.readFleet();
  }

  /** One fleet read; the next begins `fleetPollMs` after this one began, or when it ends if it took longer. */
  private readFleet(): void {
    const source = this.options.fleet;
    if (!source || !this.live || this.fleetReading || this.fleetTimer !== undefined) return;
    this.fleetReading = true;
    this.fleetReads++;
    const began = this.timers.now();
    const down = (): FleetSection => ({ url: source.url, connected: false, workers: [], queues: [] });
    let reading: Promise<FleetStatus>;
    try {
      reading = source.read();
    } catch (err) {
      reading = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    void reading
      .then(
        (status) => fleetSection(status, source.url, this.timers.now()),
        () => down(),
      )
      .then((section) => {
        this.fleetReading = false;
        if (!this.live) return;
        this.fleet = section;
        this.schedule();
        const pollMs = this.options.fleetPollMs ?? 1000;
        this.fleetTimer = this.timers.setTimeout(
          () => {
            this.fleetTimer = undefined;
            this.readFleet();
          },
          Math.max(0, began + pollMs - this.timers.now()),
        );
      });
  }

  private stop(): void {
    if (this.pending !== undefined) this.timers.clearTimeout(this.pending);
    if (this.ticker !== undefined) this.timers.clearInterval(this.ticker);
    if (this.fleetTimer !== undefined) this.timers.clearTimeout(this.fleetTimer);
    this.pending = undefined;
    this.ticker = undefined;
    this.fleetTimer = undefined;
  }
}

function push(log: string[], counts: Record<string, number>, entry: string): void {
  counts[entry] = (counts[entry] ?? 0) + 1;
  log.push(entry);
  if (log.length > LOG_LIMIT) log.shift();
}
