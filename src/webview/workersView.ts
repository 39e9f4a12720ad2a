// The Workers section of the dashboard: the `redis` backend's fleet (each worker's pools, load,
// last heartbeat, draining) and the BullMQ queues' counts. Hidden when the fleet is null (the local
// backend). Like view.ts, host text goes in through textContent and attributes only, and every
// figure carries `data-metric`/`data-value` for the end-to-end tests. The cell texts are pure
// functions (workerCells, formatHeartbeat), tested in plain Node.
import type { FleetQueueRow, FleetSection, WorkerRow } from '../dashboardProtocol/protocol';
import { formatCount } from './format';
import { el, type Child } from './dom';

/** A heartbeat's age: "0 s ago", "2 s ago", "3 min ago", "2 h ago". */
export function formatHeartbeat(ageMs: number): string {
  const s = Math.max(0, Math.floor(ageMs / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

export interface WorkerCells {
  name: string;
  /** "cpu × 8, gpu × 1", or "none". */
  pools: string;
  /** "2 / 4" (running / concurrency). */
  load: string;
  heartbeat: string;
  state: 'draining' | 'busy' | 'idle';
}

export function workerCells(w: WorkerRow): WorkerCells {
  const pools = Object.entries(w.pools);
  return {
    name: w.name,
    pools: pools.length ? pools.map(([name, units]) => `${name} × ${units}`).join(', ') : 'none',
    load: `${w.running} / ${w.concurrency}`,
    heartbeat: formatHeartbeat(w.heartbeatAgeMs),
    state: w.draining ? 'draining' : w.running > 0 ? 'busy' : 'idle',
  };
}

/** The panel's aside: where the fleet is and how big. */
export function fleetSummary(f: FleetSection): string {
  if (!f.connected) return `Not connected to ${f.url}`;
  const busy = f.workers.reduce((a, w) => a + w.running, 0);
  const slots = f.workers.reduce((a, w) => a + w.concurrency, 0);
  return `${f.workers.length} worker${f.workers.length === 1 ? '' : 's'} · ${busy} of ${slots} slots busy · ${f.url}`;
}

const QUEUE_COLUMNS: readonly { key: keyof Omit<FleetQueueRow, 'name'>; label: string; title: string }[] = [
  { key: 'waiting', label: 'Waiting', title: 'Jobs waiting for a worker (prioritized included)' },
  { key: 'active', label: 'Active', title: 'Jobs a worker is running' },
  { key: 'delayed', label: 'Delayed', title: 'Jobs moved back for a moment (no worker had room)' },
  { key: 'failed', label: 'Failed', title: 'Failed jobs BullMQ keeps' },
];

function panel(title: string, aside: HTMLElement, ...body: Child[]): HTMLElement {
  return el('section', { class: 'panel table-panel', 'aria-label': title }, el('header', { class: 'panel-header' }, el('h2', {}, title), aside), ...body);
}

export class WorkersView {
  /** The section's root: appended to the page once, hidden while there is no fleet. */
  readonly node: HTMLElement;
  private readonly aside: HTMLElement;
  private readonly workersBody: HTMLTableSectionElement;
  private readonly workersEmpty: HTMLElement;
  private readonly queuesBody: HTMLTableSectionElement;
  private readonly queuesEmpty: HTMLElement;

  constructor() {
    this.aside = el('div', { class: 'panel-aside', 'data-metric': 'fleet.connected', 'data-value': 'false' });
    this.workersBody = el('tbody');
    this.workersEmpty = el('p', { class: 'empty' }, 'No worker has sent a heartbeat lately. Start one with `orchestrator worker --redis URL`.');
    const workerHead = el(
      'tr',
      {},
      el('th', { scope: 'col', class: 'name' }, 'Worker'),
      el('th', { scope: 'col', class: 'text' }, 'Pools'),
      el('th', { scope: 'col', title: 'Attempts running / its concurrency' }, 'Load'),
      el('th', { scope: 'col', title: 'Workers send one every 2 s' }, 'Heartbeat'),
      el('th', { scope: 'col', class: 'text' }, 'State'),
    );
    const workers = el('table', { class: 'topics workers', 'aria-label': 'Workers' }, el('thead', {}, workerHead), this.workersBody);

    this.queuesBody = el('tbody');
    this.queuesEmpty = el('p', { class: 'empty' }, 'No queue yet.');
    const queueHead = el('tr', {}, el('th', { scope: 'col', class: 'name' }, 'Queue'));
    for (const c of QUEUE_COLUMNS) queueHead.append(el('th', { scope: 'col', title: c.title }, c.label));
    const queues = el('table', { class: 'topics queues', 'aria-label': 'BullMQ queues' }, el('thead', {}, queueHead), this.queuesBody);

    this.node = el(
      'div',
      { class: 'grid tables fleet', 'data-section': 'fleet' },
      panel('Workers', this.aside, el('div', { class: 'table-scroll' }, workers), this.workersEmpty),
      panel('Queues (BullMQ)', el('div', { class: 'panel-aside' }), el('div', { class: 'table-scroll' }, queues), this.queuesEmpty),
    );
    this.node.hidden = true;
  }

  render(fleet: FleetSection | null): void {
    this.node.hidden = fleet === null;
    if (!fleet) return;
    this.aside.textContent = fleetSummary(fleet);
    this.aside.dataset.value = String(fleet.connected);
    this.aside.classList.toggle('bad', !fleet.connected);

    this.workersEmpty.hidden = fleet.workers.length > 0;
    this.workersBody.replaceChildren(
      ...fleet.workers.map((w) => {
        const c = workerCells(w);
        const row = el(
          'tr',
          { 'data-worker': w.name },
          el('td', { class: 'name', title: w.name }, c.name),
          el('td', { class: 'text' }, c.pools),
          el('td', { 'data-metric': `worker.${w.name}.running`, 'data-value': String(w.running) }, c.load),
          el('td', { 'data-metric': `worker.${w.name}.heartbeatAgeMs`, 'data-value': String(w.heartbeatAgeMs) }, c.heartbeat),
          el('td', { class: 'text', 'data-metric': `worker.${w.name}.state`, 'data-value': c.state }, c.state),
        );
        if (w.draining) row.classList.add('warn');
        return row;
      }),
    );

    this.queuesEmpty.hidden = fleet.queues.length > 0;
    this.queuesBody.replaceChildren(
      ...fleet.queues.map((q) => {
        const row = el('tr', { 'data-queue': q.name }, el('td', { class: 'name', title: q.name }, q.name));
        for (const c of QUEUE_COLUMNS) {
          const v = q[c.key];
          const td = el('td', { 'data-col': c.key, 'data-value': String(v) }, formatCount(v));
          if (v === 0) td.classList.add('zero');
          else if (c.key === 'failed') td.classList.add('bad');
          row.append(td);
        }
        return row;
      }),
    );
  }
}
