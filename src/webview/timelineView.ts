// The dashboard's Timeline section: a Gantt chart of a workflow run, one row per task from ready to
// finished. uPlot draws the time axis, the task-name axis and the grid, and a `draw` hook paints the
// bars on its canvas (uPlot has no horizontal bar series: its series are y-over-x, so the bars are
// drawn in plot coordinates through valToPos, which keeps them on uPlot's scales, sizes and pixel ratio).
// Waiting is the task's colour, faint; running is the colour, solid; failed red, cancelled grey; a
// cached task carries a ring at its end; the critical path is outlined and its rows tinted.
//
// The rows are a fixed height, so 50 or 200 tasks stay readable: the chart grows and its box scrolls.
// A click on a row reveals its task in the Tasks tree. The same bars are listed as buttons for screen
// readers and keyboards (visually hidden), and carry `data-*` the end-to-end test reads.
import uPlot from 'uplot';
import type { CacheFigures, TimelineBar, TimelineRun, TimelineSection } from '../dashboardProtocol/protocol';
import { withAlpha, type Palette } from './theme';
import { barEnd, barStart, barText, cacheText, formatOffset, rowAt, runLabel, runSummary, timeSpan } from './timelineFormat';
import { el } from './dom';

/** Height of one task's row, CSS px. */
export const ROW_PX = 22;
const AXIS_PX = 28;
const NAME_AXIS_PX = 170;
const MAX_LABEL = 26;

function label(name: string): string {
  return name.length > MAX_LABEL ? `${name.slice(0, MAX_LABEL - 1)}…` : name;
}

export class TimelineView {
  readonly node: HTMLElement;
  private readonly picker: HTMLSelectElement;
  private readonly aside: HTMLElement;
  private readonly box: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly runCache: HTMLElement;
  private readonly sessionCache: HTMLElement;
  private readonly list: HTMLElement;
  private plot: uPlot | undefined;
  private shape = '';
  private run: TimelineRun | null = null;
  /** The host's clock of the last message: running bars are drawn up to it. */
  private now = 0;
  private width = 0;
  private readonly observer: ResizeObserver;

  constructor(
    private palette: Palette,
    private readonly onReveal: (taskId: string) => void,
    onSelectRun: (runId: string) => void,
  ) {
    this.picker = el('select', { class: 'timeline-picker', 'aria-label': 'Workflow run shown' });
    this.picker.addEventListener('change', () => onSelectRun(this.picker.value));
    this.aside = el('span', { class: 'muted', 'data-metric': 'timeline.critical' });
    this.box = el('div', { class: 'timeline-chart', 'data-metric': 'timeline.rows', 'data-value': '0' });
    this.empty = el('p', { class: 'empty' }, 'No workflow run yet: run one (Orchestrator: Run Workflow) to see its timeline.');
    const swatch = (cls: string, text: string): HTMLElement => el('span', { class: 'legend-item' }, el('span', { class: `swatch ${cls}` }), text);
    this.legend = el(
      'div',
      { class: 'timeline-legend muted' },
      swatch('wait', 'waiting'),
      swatch('run', 'running'),
      swatch('failed', 'failed'),
      swatch('cancelled', 'cancelled'),
      swatch('cached', 'cached'),
      swatch('critical', 'critical path'),
    );
    this.runCache = el('span', { 'data-metric': 'timeline.cache.hits', 'data-value': '0' });
    this.sessionCache = el('span', { class: 'muted', 'data-metric': 'cache.session' });
    this.list = el('ul', { class: 'sr-only timeline-list', 'aria-label': 'Tasks of the run shown' });
    const aside = el('div', { class: 'panel-aside' }, this.aside, this.picker);
    this.node = el(
      'section',
      { class: 'panel timeline-panel', 'aria-label': 'Timeline' },
      el('header', { class: 'panel-header' }, el('h2', {}, 'Timeline'), aside),
      this.legend,
      this.box,
      this.empty,
      el('p', { class: 'timeline-cache' }, 'Cache, this run: ', this.runCache, ' — session: ', this.sessionCache),
      this.list,
    );
    this.observer = new ResizeObserver(() => this.fit());
    this.observer.observe(this.box);
  }

  setPalette(palette: Palette): void {
    this.palette = palette;
    if (this.plot) this.build();
  }

  render(section: TimelineSection, now: number): void {
    this.now = now;
    this.renderPicker(section);
    const run = section.run;
    this.run = run;
    const has = run !== null && run.bars.length > 0;
    this.empty.hidden = has;
    this.box.hidden = !has;
    this.legend.hidden = !has;
    this.box.dataset.value = String(run?.bars.length ?? 0);
    this.box.dataset.run = run?.id ?? '';
    this.aside.textContent = run ? runSummary(run) : '';
    this.runCache.textContent = run ? cacheText(run.cache) : 'no run';
    this.runCache.dataset.value = String(run?.cache.hits ?? 0);
    this.runCache.dataset.misses = String(run?.cache.misses ?? 0);
    this.runCache.dataset.saved = String(run?.cache.savedMs ?? 0);
    this.renderList(run);
    if (!has) {
      this.plot?.destroy();
      this.plot = undefined;
      this.shape = '';
      return;
    }
    const shape = `${run.id}\u0000${run.bars.map((b) => b.name).join('\u0000')}`;
    if (!this.plot || shape !== this.shape) {
      this.shape = shape;
      this.build();
    } else {
      this.plot.setData(this.data(run), true);
    }
  }

  /** The session's figures, from the `cache` section. */
  renderCache(c: CacheFigures): void {
    this.sessionCache.textContent = cacheText(c);
    this.sessionCache.dataset.value = String(c.hits);
  }

  private renderPicker(section: TimelineSection): void {
    const options = [el('option', { value: '' }, 'Latest run'), ...section.runs.map((r) => el('option', { value: r.id }, runLabel(r)))];
    // Rebuilt only when the runs change, so an open drop-down is not reset under the user's pointer.
    const key = JSON.stringify(section.runs);
    if (this.picker.dataset.key !== key) {
      this.picker.replaceChildren(...options);
      this.picker.dataset.key = key;
    }
    this.picker.value = section.selected ?? '';
    this.picker.hidden = section.runs.length === 0;
  }

  private renderList(run: TimelineRun | null): void {
    const items = (run?.bars ?? []).map((bar, row) => {
      const button = el(
        'button',
        {
          type: 'button',
          class: 'timeline-bar',
          'data-task-id': bar.id,
          'data-row': String(row),
          'data-status': bar.status,
          'data-critical': String(bar.critical),
          'data-cached': String(bar.cached !== undefined),
        },
        barText(bar, this.now - (run?.startedAt ?? 0)),
      );
      button.addEventListener('click', () => this.onReveal(bar.id));
      return el('li', {}, button);
    });
    this.list.replaceChildren(...items);
  }

  /** uPlot's data: the x range only (the bars are drawn by the hook); one empty series keeps the y scale. */
  private data(run: TimelineRun): uPlot.AlignedData {
    return [
      [0, timeSpan(run, this.relNow(run))],
      [null, null],
    ];
  }

  private relNow(run: TimelineRun): number {
    return Math.max(0, this.now - run.startedAt);
  }

  private rows(): number {
    return this.run?.bars.length ?? 0;
  }

  private height(): number {
    return this.rows() * ROW_PX + AXIS_PX + 8;
  }

  private build(): void {
    this.plot?.destroy();
    const run = this.run;
    if (!run) return;
    const p = this.palette;
    this.width = Math.max(240, Math.floor(this.box.clientWidth));
    const axis = { stroke: p.muted, font: p.font, grid: { stroke: p.grid, width: 1 }, ticks: { stroke: p.grid, width: 1, size: 4 } };
    const options: uPlot.Options = {
      width: this.width,
      height: this.height(),
      legend: { show: false },
      cursor: { x: false, y: false, points: { show: false }, drag: { x: false, y: false, setScale: false } },
      scales: {
        x: { time: false, range: (u) => [0, Math.max(1000, (u.data[0][1] ?? 1000) * 1.02)] },
        // Row i is drawn at y = rows - 1 - i, so the first bar is at the top.
        y: { range: () => [-0.5, this.rows() - 0.5] },
      },
      axes: [
        { ...axis, side: 0, size: AXIS_PX, space: 60, values: (_u, splits) => splits.map(formatOffset) },
        {
          ...axis,
          side: 3,
          size: NAME_AXIS_PX,
          grid: { show: false },
          splits: () => Array.from({ length: this.rows() }, (_, i) => i),
          values: (_u, splits) => splits.map((s) => label(this.run?.bars[this.rows() - 1 - s]?.name ?? '')),
        },
      ],
      series: [{}, { label: 'bars', stroke: 'transparent', width: 0, points: { show: false } }],
      hooks: { draw: [(u) => this.draw(u)] },
    };
    this.plot = new uPlot(options, this.data(run), this.box);
    const over = this.plot.over;
    over.classList.add('timeline-over');
    over.addEventListener('click', (e) => {
      const bar = this.barAt(e.offsetY, over.clientHeight);
      if (bar) this.onReveal(bar.id);
    });
    over.addEventListener('mousemove', (e) => {
      const bar = this.barAt(e.offsetY, over.clientHeight);
      const text = bar && this.run ? barText(bar, this.relNow(this.run)) : '';
      if (over.title !== text) over.title = text;
      over.style.cursor = bar ? 'pointer' : '';
    });
  }

  private barAt(y: number, height: number): TimelineBar | undefined {
    const rows = this.rows();
    const row = rowAt(y, 0, rows > 0 ? height / rows : 0, rows);
    return row === undefined ? undefined : this.run?.bars[row];
  }

  private draw(u: uPlot): void {
    const run = this.run;
    if (!run) return;
    const p = this.palette;
    const ctx = u.ctx;
    const px = uPlot.pxRatio;
    const rows = run.bars.length;
    const rowH = u.bbox.height / Math.max(1, rows);
    const barH = Math.max(4 * px, rowH * 0.6);
    const now = this.relNow(run);
    const x = (ms: number): number => u.valToPos(ms, 'x', true);
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    run.bars.forEach((bar, i) => {
      const mid = u.bbox.top + (i + 0.5) * rowH;
      const top = mid - barH / 2;
      const color = bar.status === 'failed' ? p.red : bar.status === 'cancelled' ? p.muted : bar.cached ? p.purple : p.blue;
      const x0 = x(barStart(bar, now));
      const x1 = Math.max(x0 + 2 * px, x(barEnd(bar, now)));
      if (bar.critical) {
        ctx.fillStyle = withAlpha(p.orange, 0.12);
        ctx.fillRect(u.bbox.left, mid - rowH / 2, u.bbox.width, rowH);
      }
      if (bar.segments.length === 0) {
        // Never ready (cancelled with its dependency) or no history: a tick where it ended.
        ctx.fillStyle = withAlpha(color, 0.6);
        ctx.fillRect(x0 - px, top, 2 * px, barH);
      }
      for (const s of bar.segments) {
        const s0 = x(s.from);
        const s1 = Math.max(s0 + px, x(s.to ?? now));
        ctx.fillStyle = s.kind === 'wait' ? withAlpha(color, p.highContrast ? 0.45 : 0.28) : color;
        ctx.fillRect(s0, top, s1 - s0, barH);
      }
      if (bar.critical) {
        ctx.strokeStyle = p.orange;
        ctx.lineWidth = 2 * px;
        ctx.strokeRect(x0 - px, top - px, x1 - x0 + 2 * px, barH + 2 * px);
      }
      if (bar.cached) {
        ctx.strokeStyle = p.purple;
        ctx.lineWidth = 2 * px;
        ctx.beginPath();
        ctx.arc(x1 + barH / 2 + 2 * px, mid, barH / 2.5, 0, Math.PI * 2);
        ctx.stroke();
      }
    });
    ctx.restore();
  }

  private fit(): void {
    const width = Math.max(240, Math.floor(this.box.clientWidth));
    if (!this.plot || width === this.width) return;
    this.width = width;
    this.plot.setSize({ width, height: this.height() });
  }
}
