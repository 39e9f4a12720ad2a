// The Services section of the dashboard: each unfinished service, Ready (a green badge, for how
// long, its restarts and problem counts) or starting (with what it waits for). Hidden while there is
// none. Like view.ts, host text goes in through textContent and attributes only, and every figure
// carries `data-metric`/`data-value` for the end-to-end tests. The cell texts are pure functions
// (serviceCells, formatReadyFor, runningText), tested in plain Node. "Ready for" is measured against
// the message's `at` (the host's clock, which also stamped `readySince`), so the page needs no clock.
import type { ServiceRow } from '../dashboardProtocol/protocol';
import { formatCount } from './format';
import { el } from './dom';

/** How long a service has been Ready: "ready for 12 s", "ready for 2 min", "ready for 3 h". */
export function formatReadyFor(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `ready for ${s} s`;
  if (s < 3600) return `ready for ${Math.floor(s / 60)} min`;
  return `ready for ${Math.floor(s / 3600)} h`;
}

function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}

export interface ServiceCells {
  name: string;
  badge: 'Ready' | 'starting…';
  /** "ready for 2 min", or "waits for port 127.0.0.1:3000"; empty when nothing says what it waits for. */
  detail: string;
  /** "restarted 2×", or empty. */
  restarts: string;
  /** "1 error", "3 errors, 1 warning"; empty when unknown. */
  problems: string;
}

/** `now`: the host's clock when it sent the rows (the message's `at`). */
export function serviceCells(row: ServiceRow, now: number): ServiceCells {
  const ready = row.state === 'ready';
  const p = row.problems;
  return {
    name: row.name,
    badge: ready ? 'Ready' : 'starting…',
    detail: ready ? formatReadyFor(now - (row.readySince ?? now)) : row.waitsFor ? `waits for ${row.waitsFor}` : '',
    restarts: row.restarts > 0 ? `restarted ${formatCount(row.restarts)}×` : '',
    problems: p ? `${plural(p.errors, 'error')}${p.warnings > 0 ? `, ${plural(p.warnings, 'warning')}` : ''}` : '',
  };
}

export function readyCount(rows: readonly ServiceRow[]): number {
  return rows.reduce((n, r) => n + (r.state === 'ready' ? 1 : 0), 0);
}

/** "3 running", or "3 running (1 ready)" when some of them are Ready services. */
export function runningText(running: number, ready: number): string {
  return `${formatCount(running)} running${ready > 0 ? ` (${formatCount(ready)} ready)` : ''}`;
}

export class ServicesView {
  /** The section's root: appended to the page once, hidden while there is no service. */
  readonly node: HTMLElement;
  private readonly aside: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private rows: readonly ServiceRow[] = [];

  /** `onReveal`: the user picked a service; the host shows it in the Tasks tree. */
  constructor(private readonly onReveal: (taskId: string) => void) {
    this.aside = el('div', { class: 'panel-aside', 'data-metric': 'services.ready', 'data-value': '0' });
    this.body = el('tbody');
    const head = el(
      'tr',
      {},
      el('th', { scope: 'col', class: 'name' }, 'Service'),
      el('th', { scope: 'col', class: 'text' }, 'State'),
      el('th', { scope: 'col', class: 'text', title: 'How long it has been Ready, or what it waits for' }, 'Since / waits for'),
      el('th', { scope: 'col', class: 'text', title: 'Restarts after it exited (restart: on-failure)' }, 'Restarts'),
      el('th', { scope: 'col', class: 'text', title: 'What the problem matcher reported with its last Ready' }, 'Problems'),
    );
    const table = el('table', { class: 'topics services', 'aria-label': 'Services' }, el('thead', {}, head), this.body);
    this.node = el(
      'div',
      { class: 'grid services-grid', 'data-section': 'services' },
      el(
        'section',
        { class: 'panel table-panel', 'aria-label': 'Services' },
        el('header', { class: 'panel-header' }, el('h2', {}, 'Services'), this.aside),
        el('div', { class: 'table-scroll' }, table),
      ),
    );
    this.node.hidden = true;
  }

  render(rows: readonly ServiceRow[], now: number): void {
    this.rows = rows;
    this.node.hidden = rows.length === 0;
    const ready = readyCount(rows);
    this.aside.textContent = `${ready} of ${rows.length} ready`;
    this.aside.dataset.value = String(ready);
    this.body.replaceChildren(
      ...rows.map((r) => {
        const c = serviceCells(r, now);
        const reveal = el('button', { class: 'service-name', type: 'button', title: 'Reveal in the Tasks tree', 'data-task-id': r.id }, c.name);
        reveal.addEventListener('click', () => this.onReveal(r.id));
        const badge = el('span', { class: `service-badge ${r.state}` }, c.badge);
        if ((r.problems?.errors ?? 0) > 0) badge.classList.add('errors');
        const problems = el('td', { class: 'text', 'data-metric': `service.${r.id}.errors`, 'data-value': String(r.problems?.errors ?? '') }, c.problems);
        if ((r.problems?.errors ?? 0) > 0) problems.classList.add('bad');
        else if ((r.problems?.warnings ?? 0) > 0) problems.classList.add('warn');
        return el(
          'tr',
          { 'data-service': r.id },
          el('td', { class: 'name', title: r.name }, reveal),
          el('td', { class: 'text', 'data-metric': `service.${r.id}.state`, 'data-value': r.state }, badge),
          el('td', { class: 'text service-detail muted', title: r.waitsFor ?? '', 'data-value': String(r.readySince ?? '') }, c.detail),
          el('td', { class: 'text', 'data-metric': `service.${r.id}.restarts`, 'data-value': String(r.restarts) }, c.restarts),
          problems,
        );
      }),
    );
  }

  /** The "ready for …" texts move on with the host's clock even when the rows do not change. */
  renderTimes(now: number): void {
    const cells = this.body.querySelectorAll<HTMLElement>('.service-detail');
    this.rows.forEach((r, i) => {
      const cell = cells[i];
      if (!cell || r.state !== 'ready') return;
      const text = serviceCells(r, now).detail;
      if (cell.textContent !== text) cell.textContent = text;
    });
  }
}
