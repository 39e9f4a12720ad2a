// The dashboard's DOM: built once, then each render touches only the sections that changed.
// Text from the host goes in through textContent and attributes only, never as markup, so a task
// name cannot inject anything into the page. Every figure carries `data-metric` and its raw value in
// `data-value`, which the end-to-end test reads to compare with the orchestrator's own metrics.
import type uPlot from 'uplot';
import {
  STAGES,
  columnsLength,
  type DashboardSnapshot,
  type FailureInfo,
  type SectionName,
  type SeriesSection,
  STAGE_LABELS,
  type Stage,
  type TopicRow,
} from '../dashboardProtocol/protocol';
import { ManagedChart, histogramOptions, queueOptions, throughputOptions, utilizationOptions } from './charts';
import { formatAgo, formatClock, formatCount, formatPercent, formatRate } from './format';
import { formatDuration } from '../dashboardProtocol/format';
import type { Palette } from './theme';
import { WorkersView } from './workersView';
import { ServicesView, readyCount, runningText } from './servicesView';
import { TimelineView } from './timelineView';
import { cacheSub, hitRate } from './timelineFormat';
import { el, type Child } from './dom';

const STAGE_HINTS: Record<Stage, string> = {
  created: 'not ready yet',
  scheduled: 'ready to run',
  running: 'in progress',
  completed: 'succeeded',
  failed: 'out of retries',
  cancelled: 'stopped',
};

interface Figure {
  value: HTMLElement;
  sub?: HTMLElement;
}

function setFigure(f: Figure, raw: number, text: string, sub?: string): void {
  if (f.value.textContent !== text) f.value.textContent = text;
  f.value.dataset.value = String(raw);
  if (f.sub && sub !== undefined && f.sub.textContent !== sub) f.sub.textContent = sub;
}

function card(metric: string, label: string, hint: string, extraClass = ''): { node: HTMLElement; figure: Figure } {
  const value = el('div', { class: 'card-value', 'data-metric': metric, 'data-value': '0' }, '–');
  const sub = el('div', { class: 'card-sub' }, hint);
  const node = el('div', { class: `card ${extraClass}`.trim(), role: 'group', 'aria-label': label }, el('div', { class: 'card-label' }, label), value, sub);
  return { node, figure: { value, sub } };
}

function panel(title: string, className: string, ...body: Child[]): { node: HTMLElement; aside: HTMLElement } {
  const aside = el('div', { class: 'panel-aside' });
  const node = el(
    'section',
    { class: `panel ${className}`, 'aria-label': title },
    el('header', { class: 'panel-header' }, el('h2', {}, title), aside),
    ...body,
  );
  return { node, aside };
}

const MIN_WINDOW_S = 60;
const LEAD_BUCKETS = 5;

/**
 * Where the charts start: a few buckets before the first activity, but never less than a minute of
 * data. The monitor's window is several minutes; a short batch drawn across all of it is a spike at
 * the right edge with nothing readable around it.
 */
function visibleFrom(series: SeriesSection): number {
  const n = columnsLength(series);
  const pools = Object.values(series.utilization);
  let first = 0;
  while (first < n && !series.throughput[first] && !series.queueDepth[first] && !series.running[first] && !pools.some((p) => p[first])) {
    first++;
  }
  const minBuckets = Math.ceil((MIN_WINDOW_S * 1000) / series.bucketMs);
  return Math.max(0, Math.min(first - LEAD_BUCKETS, n - minBuckets));
}

function xs(series: SeriesSection, from: number): number[] {
  const n = columnsLength(series);
  const out: number[] = [];
  for (let i = from; i < n; i++) out.push((series.start + i * series.bucketMs) / 1000);
  return out;
}

const TOPIC_COLUMNS: { key: keyof TopicRow; label: string; title: string }[] = [
  { key: 'published', label: 'Published', title: 'Messages published to the topic' },
  { key: 'acknowledged', label: 'Acked', title: 'Acknowledged by a subscriber' },
  { key: 'pending', label: 'Pending', title: 'Waiting for delivery' },
  { key: 'inFlight', label: 'In flight', title: 'Delivered, not yet acknowledged' },
  { key: 'redelivered', label: 'Redelivered', title: 'Deliveries after the first' },
  { key: 'deadLettered', label: 'Dead-lettered', title: 'Moved to the dead-letter topic after the last delivery' },
  { key: 'processingRate', label: 'Rate /s', title: 'Acknowledged per second over the last minute' },
];

/** The headline figures, each filled by the constructor's `addKpi`. */
type KpiMetric =
  | 'taskThroughput'
  | 'p50TaskDuration'
  | 'p95TaskDuration'
  | 'averageTaskDuration'
  | 'averageWaitTime'
  | 'queueDepth'
  | 'successRate'
  | 'messageProcessingRate'
  | 'cacheHits';

export class DashboardView {
  // Both filled for every key by the constructor.
  private readonly stageFigures = {} as Record<Stage, Figure>;
  private readonly kpi = {} as Record<KpiMetric, Figure>;
  private readonly pausePill: HTMLElement;
  private readonly slots: HTMLElement;
  private readonly updated: HTMLElement;
  private readonly durationAside: HTMLElement;
  private readonly throughputAside: HTMLElement;
  private readonly queueAside: HTMLElement;
  private readonly poolMeters: HTMLElement;
  private readonly poolsEmpty: HTMLElement;
  private readonly poolChartBox: HTMLElement;
  private readonly topicsBody: HTMLTableSectionElement;
  private readonly topicsFoot: HTMLTableSectionElement;
  private readonly topicsEmpty: HTMLElement;
  private readonly topicsAside: HTMLElement;
  private readonly failureList: HTMLElement;
  private readonly failuresEmpty: HTMLElement;
  private readonly workers = new WorkersView();
  private readonly services: ServicesView;
  private readonly timeline: TimelineView;
  private readonly charts: ManagedChart[] = [];
  private readonly throughputChart: ManagedChart;
  private readonly queueChart: ManagedChart;
  private readonly histogramChart: ManagedChart;
  private readonly poolChart: ManagedChart;
  private poolNames: string[] = [];
  private histogramBounds: number[] = [];

  constructor(
    root: HTMLElement,
    palette: Palette,
    private readonly onReveal: (taskId: string) => void,
    onSelectRun: (runId: string) => void = () => undefined,
  ) {
    this.services = new ServicesView(onReveal);
    this.timeline = new TimelineView(palette, onReveal, onSelectRun);
    this.pausePill = el('span', { class: 'pill', 'data-metric': 'paused', 'data-value': 'false' }, 'Running');
    this.slots = el('span', { class: 'muted', 'data-metric': 'concurrency' });
    this.updated = el('span', { class: 'muted updated', 'aria-live': 'off' });
    const header = el('header', { class: 'top' }, el('h1', {}, 'Orchestrator'), this.pausePill, this.slots, el('span', { class: 'spacer' }), this.updated);

    const stages = el('section', { class: 'cards stages', 'aria-label': 'Tasks per stage' });
    for (const s of STAGES) {
      const c = card(`stage.${s}`, STAGE_LABELS[s], STAGE_HINTS[s], `stage stage-${s}`);
      this.stageFigures[s] = c.figure;
      stages.append(c.node);
    }

    const kpis = el('section', { class: 'cards kpis', 'aria-label': 'Performance' });
    const addKpi = (metric: KpiMetric, label: string, hint: string): void => {
      const c = card(metric, label, hint);
      this.kpi[metric] = c.figure;
      kpis.append(c.node);
    };
    addKpi('taskThroughput', 'Throughput', 'tasks/s, last minute');
    addKpi('p50TaskDuration', 'p50 duration', 'median attempt');
    addKpi('p95TaskDuration', 'p95 duration', '95th percentile');
    addKpi('averageTaskDuration', 'Mean duration', 'finished attempts');
    addKpi('averageWaitTime', 'Wait in queue', 'mean, ready → run');
    addKpi('queueDepth', 'Queue depth', 'created + scheduled');
    addKpi('successRate', 'Success rate', 'completed / finished');
    addKpi('messageProcessingRate', 'Messages', 'processed/s');
    addKpi('cacheHits', 'Cache hits', 'no cached tasks');

    const box = (): HTMLElement => el('div', { class: 'chart' });
    const tBox = box();
    const qBox = box();
    const hBox = box();
    this.poolChartBox = box();
    const throughput = panel('Throughput', 'chart-panel', tBox);
    const queue = panel('Queue depth', 'chart-panel', qBox);
    const durations = panel('Task durations', 'chart-panel', hBox);
    this.throughputAside = throughput.aside;
    this.queueAside = queue.aside;
    this.durationAside = durations.aside;
    this.poolMeters = el('div', { class: 'meters' });
    this.poolsEmpty = el('p', { class: 'empty' }, 'No resource pools configured.');
    const pools = panel('Resource pools', 'chart-panel', this.poolChartBox, this.poolMeters, this.poolsEmpty);

    this.topicsBody = el('tbody');
    this.topicsFoot = el('tfoot');
    this.topicsEmpty = el('p', { class: 'empty' }, 'No messages published yet.');
    const headRow = el('tr', {}, el('th', { scope: 'col', class: 'name' }, 'Topic'));
    for (const c of TOPIC_COLUMNS) headRow.append(el('th', { scope: 'col', title: c.title }, c.label));
    const table = el('table', { class: 'topics', 'aria-label': 'Queue statistics per topic' }, el('thead', {}, headRow), this.topicsBody, this.topicsFoot);
    const topics = panel('Queue topics', 'table-panel', el('div', { class: 'table-scroll' }, table), this.topicsEmpty);
    this.topicsAside = topics.aside;

    this.failureList = el('ul', { class: 'failures', 'aria-label': 'Latest failures' });
    this.failuresEmpty = el('p', { class: 'empty' }, 'No failures.');
    const failures = panel('Latest failures', 'failures-panel', this.failureList, this.failuresEmpty);

    root.replaceChildren(
      header,
      stages,
      kpis,
      this.services.node,
      this.timeline.node,
      el('div', { class: 'grid charts' }, throughput.node, queue.node, durations.node, pools.node),
      el('div', { class: 'grid tables' }, topics.node, failures.node),
      this.workers.node,
    );
    root.removeAttribute('aria-busy');

    this.throughputChart = new ManagedChart(tBox, 180, throughputOptions, palette);
    this.queueChart = new ManagedChart(qBox, 180, queueOptions, palette);
    this.histogramChart = new ManagedChart(
      hBox,
      180,
      histogramOptions(() => this.histogramBounds),
      palette,
    );
    this.poolChart = new ManagedChart(this.poolChartBox, 140, (p) => utilizationOptions(this.poolNames)(p), palette);
    this.charts.push(this.throughputChart, this.queueChart, this.histogramChart, this.poolChart);
  }

  setPalette(palette: Palette): void {
    for (const c of this.charts) c.setPalette(palette);
    this.timeline.setPalette(palette);
  }

  /** Renders the sections named in `changed` (all of them for a snapshot). */
  render(s: DashboardSnapshot, changed: ReadonlySet<SectionName>, at: number): void {
    this.updated.textContent = `Updated ${formatClock(at)}`;
    if (changed.has('status')) this.renderStatus(s);
    if (changed.has('headline')) this.renderHeadline(s);
    if (changed.has('headline') || changed.has('services')) this.renderRunning(s);
    if (changed.has('services')) this.services.render(s.services, at);
    // "Ready for …" moves on with the host's clock, as the failures' "… ago" below.
    else this.services.renderTimes(at);
    if (changed.has('timeline')) this.timeline.render(s.timeline, at);
    if (changed.has('cache')) this.renderCache(s);
    if (changed.has('histogram')) this.renderHistogram(s);
    if (changed.has('series')) this.renderSeries(s.series);
    if (changed.has('pools') || changed.has('series')) this.renderPools(s);
    if (changed.has('queue')) this.renderQueue(s);
    if (changed.has('fleet')) this.workers.render(s.fleet);
    if (changed.has('failures')) this.renderFailures(s.failures, at);
    // The "… ago" times move on even when the list does not change; updated in place, so keyboard
    // focus on a failure survives the update.
    else this.renderFailureTimes(at);
  }

  private renderStatus(s: DashboardSnapshot): void {
    for (const stage of STAGES) {
      const n = s.status.counts[stage];
      setFigure(this.stageFigures[stage], n, formatCount(n));
    }
    this.pausePill.textContent = s.status.paused ? 'Paused' : 'Running';
    this.pausePill.dataset.value = String(s.status.paused);
    this.pausePill.classList.toggle('paused', s.status.paused);
    const c = s.status.concurrency;
    this.slots.textContent = `${c.running} of ${c.limit} slots busy · ${formatCount(s.status.total)} tasks`;
    this.slots.dataset.value = String(c.running);
  }

  private renderHeadline(s: DashboardSnapshot): void {
    const h = s.headline;
    setFigure(
      this.kpi.taskThroughput,
      h.taskThroughput,
      formatRate(h.taskThroughput),
      `${formatCount(h.totals.completed + h.totals.failed + h.totals.cancelled)} finished this session`,
    );
    setFigure(this.kpi.p50TaskDuration, h.p50TaskDuration, formatDuration(h.p50TaskDuration));
    setFigure(this.kpi.p95TaskDuration, h.p95TaskDuration, formatDuration(h.p95TaskDuration));
    setFigure(this.kpi.averageTaskDuration, h.averageTaskDuration, formatDuration(h.averageTaskDuration));
    setFigure(this.kpi.averageWaitTime, h.averageWaitTime, formatDuration(h.averageWaitTime));
    setFigure(this.kpi.queueDepth, h.queueDepth, formatCount(h.queueDepth));
    setFigure(
      this.kpi.successRate,
      h.successRate,
      formatPercent(h.successRate),
      `${formatCount(h.totals.completed)} ok · ${formatCount(h.totals.failed)} failed`,
    );
    setFigure(
      this.kpi.messageProcessingRate,
      h.messageProcessingRate,
      formatRate(h.messageProcessingRate),
      `/s · ${formatCount(h.totals.messages)} this session`,
    );
    this.kpi.successRate.value.classList.toggle('bad', h.totals.failed > 0 && h.successRate < 0.9);
    this.durationAside.textContent = `p50 ${formatDuration(h.p50TaskDuration)} · p95 ${formatDuration(h.p95TaskDuration)}`;
  }

  /** The session's cache figures: the KPI card (hits, and the rate as its title) and the line under the timeline. */
  private renderCache(s: DashboardSnapshot): void {
    const c = s.cache;
    setFigure(this.kpi.cacheHits, c.hits, formatCount(c.hits), cacheSub(c));
    this.kpi.cacheHits.value.title = `${formatPercent(hitRate(c))} of cached tasks restored`;
    this.kpi.cacheHits.value.dataset.misses = String(c.misses);
    this.kpi.cacheHits.value.dataset.saved = String(c.savedMs);
    this.timeline.renderCache(c);
  }

  /** The queue depth card's "3 running (1 ready)": the headline's running, the services' Ready. */
  private renderRunning(s: DashboardSnapshot): void {
    const sub = this.kpi.queueDepth.sub;
    const ready = readyCount(s.services);
    const text = runningText(s.headline.running, ready);
    if (sub && sub.textContent !== text) sub.textContent = text;
    if (sub) {
      sub.dataset.metric = 'services.readyRunning';
      sub.dataset.value = String(ready);
    }
  }

  private renderHistogram(s: DashboardSnapshot): void {
    this.histogramBounds = s.histogram.bounds;
    const idx = s.histogram.counts.map((_, i) => i);
    this.histogramChart.setData([idx, s.histogram.counts], `h${s.histogram.bounds.join(',')}`);
  }

  private renderSeries(series: SeriesSection): void {
    const from = visibleFrom(series);
    const x = xs(series, from);
    this.throughputChart.setData([x, series.throughput.slice(from), series.failed.slice(from)], 't');
    this.queueChart.setData([x, series.queueDepth.slice(from), series.running.slice(from)], 'q');
    const last = columnsLength(series) - 1;
    const lastOf = (a: number[]): number => a[last] ?? 0;
    const windowS = Math.round((columnsLength(series) * series.bucketMs) / 1000);
    const span = windowS >= 120 && windowS % 60 === 0 ? `${windowS / 60} min` : `${windowS} s`;
    this.throughputAside.textContent = `${formatCount(series.throughput.reduce((a, b) => a + b, 0))} finished in the last ${span}`;
    this.queueAside.textContent = `now ${formatCount(lastOf(series.queueDepth))} queued · ${formatCount(lastOf(series.running))} running`;
  }

  private renderPools(s: DashboardSnapshot): void {
    const names = Object.keys(s.pools);
    const has = names.length > 0;
    this.poolsEmpty.hidden = has;
    this.poolChartBox.hidden = !has;
    this.poolMeters.hidden = !has;
    if (!has) return;
    this.poolNames = Object.keys(s.series.utilization);
    const from = visibleFrom(s.series);
    const util: uPlot.AlignedData = [xs(s.series, from), ...Object.values(s.series.utilization).map((column) => column.slice(from))];
    this.poolChart.setData(util, `p${this.poolNames.join('\u0000')}`);

    const rows = Object.entries(s.pools).map(([name, p]) => {
      const share = p.capacity > 0 ? Math.min(1, p.inUse / p.capacity) : 0;
      const fill = el('div', { class: 'meter-fill' });
      // CSSOM, not a style attribute: the page's CSP allows no inline styles.
      fill.style.width = `${(share * 100).toFixed(1)}%`;
      fill.classList.toggle('full', share >= 1);
      return el(
        'div',
        { class: 'meter', 'data-pool': name },
        el('span', { class: 'meter-name', title: name }, name),
        el(
          'div',
          {
            class: 'meter-track',
            role: 'meter',
            'aria-valuemin': '0',
            'aria-valuemax': String(p.capacity),
            'aria-valuenow': String(p.inUse),
            'aria-label': `${name} in use`,
          },
          fill,
        ),
        el('span', { class: 'meter-text', 'data-metric': `pool.${name}.inUse`, 'data-value': String(p.inUse) }, `${p.inUse} / ${p.capacity}`),
        el(
          'span',
          {
            class: 'meter-util muted',
            title: 'Utilisation over the last minute',
            'data-metric': `pool.${name}.utilization`,
            'data-value': String(p.utilization),
          },
          formatPercent(p.utilization),
        ),
      );
    });
    this.poolMeters.replaceChildren(...rows);
  }

  private renderQueue(s: DashboardSnapshot): void {
    const names = Object.keys(s.queue.topics);
    this.topicsEmpty.hidden = names.length > 0;
    const row = (name: string, t: TopicRow, head: 'th' | 'td'): HTMLTableRowElement => {
      const tr = el(
        'tr',
        { 'data-topic': name },
        el(head === 'th' ? 'th' : 'td', head === 'th' ? { scope: 'row', class: 'name' } : { class: 'name', title: name }, name),
      );
      for (const c of TOPIC_COLUMNS) {
        const v = t[c.key];
        const td = el('td', { 'data-col': c.key, 'data-value': String(v) }, c.key === 'processingRate' ? formatRate(v) : formatCount(v));
        if (v > 0 && c.key === 'deadLettered') td.classList.add('bad');
        if (v > 0 && (c.key === 'pending' || c.key === 'redelivered')) td.classList.add('warn');
        if (v === 0) td.classList.add('zero');
        tr.append(td);
      }
      return tr;
    };
    this.topicsBody.replaceChildren(...Object.entries(s.queue.topics).map(([n, t]) => row(n, t, 'td')));
    this.topicsFoot.replaceChildren(...(names.length > 1 ? [row('All topics', s.queue.totals, 'th')] : []));
    this.topicsAside.textContent = `${formatCount(s.queue.subscribers)} subscriber${s.queue.subscribers === 1 ? '' : 's'}`;
  }

  private failures: readonly FailureInfo[] = [];

  private failureWhen(f: FailureInfo, now: number): string {
    return `${formatAgo(f.at, now)}${f.attempts > 1 ? ` · ${f.attempts} attempts` : ''}`;
  }

  private renderFailureTimes(now: number): void {
    const whens = this.failureList.querySelectorAll<HTMLElement>('.failure-when');
    this.failures.forEach((f, i) => {
      const text = this.failureWhen(f, now);
      if (whens[i] && whens[i].textContent !== text) whens[i].textContent = text;
    });
  }

  private renderFailures(failures: readonly FailureInfo[], now: number): void {
    this.failures = failures;
    this.failuresEmpty.hidden = failures.length > 0;
    const items = failures.map((f) => {
      const button = el(
        'button',
        { class: 'failure', type: 'button', 'data-task-id': f.id, title: 'Reveal in the Tasks tree' },
        el(
          'span',
          { class: 'failure-head' },
          el('span', { class: 'failure-name' }, f.name),
          el('span', { class: 'failure-when muted' }, this.failureWhen(f, now)),
        ),
        el('span', { class: 'failure-reason' }, f.code ? `${f.code}: ${f.reason}` : f.reason),
      );
      button.addEventListener('click', () => this.onReveal(f.id));
      return el('li', {}, button);
    });
    this.failureList.replaceChildren(...items);
  }
}
