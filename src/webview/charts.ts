// The dashboard's charts, drawn by uPlot on canvas. Each chart owns one uPlot instance inside its
// container: it follows the container's width (a ResizeObserver), is rebuilt when the theme changes
// (uPlot fixes colours at creation) or when its series change shape (a pool appears), and otherwise
// only gets `setData`, which is cheap enough for a few updates a second.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatBound, formatClock, formatPercent } from './format';
import { withAlpha, type Palette } from './theme';

type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

const COUNT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1e6];

export class ManagedChart {
  private plot: uPlot | undefined;
  private data: uPlot.AlignedData = [[]];
  private shape = '';
  private width = 0;
  private readonly observer: ResizeObserver;

  constructor(
    private readonly container: HTMLElement,
    private readonly height: number,
    private readonly options: (palette: Palette) => ChartOptions,
    private palette: Palette,
  ) {
    this.observer = new ResizeObserver(() => this.fit());
    this.observer.observe(container);
  }

  /** `shape` names the series layout; a different one rebuilds the chart. */
  setData(data: uPlot.AlignedData, shape: string): void {
    this.data = data;
    if (!this.plot || shape !== this.shape) {
      this.shape = shape;
      this.build();
    } else {
      this.plot.setData(data);
    }
  }

  setPalette(palette: Palette): void {
    this.palette = palette;
    if (this.plot) this.build();
  }

  private build(): void {
    this.plot?.destroy();
    this.width = this.measure();
    this.plot = new uPlot({ ...this.options(this.palette), width: this.width, height: this.height }, this.data, this.container);
  }

  private measure(): number {
    return Math.max(160, Math.floor(this.container.clientWidth));
  }

  private fit(): void {
    const width = this.measure();
    if (!this.plot || width === this.width) return;
    this.width = width;
    this.plot.setSize({ width, height: this.height });
  }
}

function axis(p: Palette, extra: uPlot.Axis = {}): uPlot.Axis {
  return {
    stroke: p.muted,
    font: p.font,
    grid: { stroke: p.grid, width: 1 },
    ticks: { stroke: p.grid, width: 1, size: 4 },
    ...extra,
  };
}

/** Axis space and zero-based range shared by the time-series charts. */
function timeOptions(
  p: Palette,
  y: { values: (v: number) => string; max?: number; incrs?: number[] },
): Pick<ChartOptions, 'scales' | 'axes' | 'cursor' | 'legend'> {
  return {
    scales: {
      x: { time: true },
      y: { range: (_u, _min, max) => [0, y.max ?? Math.max(1, max * 1.15)] },
    },
    axes: [
      axis(p, { space: 70, size: 32, values: (_u, splits) => splits.map((s) => formatClock(s * 1000)) }),
      axis(p, { size: 48, ...(y.incrs ? { incrs: y.incrs } : {}), values: (_u, splits) => splits.map(y.values) }),
    ],
    // No drag-to-zoom: the data streams in, and a zoomed scale would be reset by the next update.
    cursor: { drag: { x: false, y: false, setScale: false }, points: { size: 6 } },
    // Labels only: a live legend shows values under the cursor and dashes otherwise, which reads as missing data.
    legend: { live: false },
  };
}

function line(label: string, color: string, fill: boolean, value: (v: number) => string): uPlot.Series {
  return {
    label,
    stroke: color,
    width: 1.5,
    fill: fill ? withAlpha(color, 0.15) : undefined,
    points: { show: false },
    value: (_u, v) => (v === null || v === undefined ? '–' : value(v)),
  };
}

const countValue = (v: number): string => String(Math.round(v));

export function throughputOptions(p: Palette): ChartOptions {
  return {
    ...timeOptions(p, { values: countValue, incrs: COUNT_INCRS }),
    series: [{}, line('Finished /s', p.blue, true, countValue), line('Failed /s', p.red, false, countValue)],
  };
}

export function queueOptions(p: Palette): ChartOptions {
  return {
    ...timeOptions(p, { values: countValue, incrs: COUNT_INCRS }),
    series: [{}, line('Queued', p.orange, true, countValue), line('Running', p.blue, false, countValue)],
  };
}

export function utilizationOptions(pools: readonly string[]) {
  return (p: Palette): ChartOptions => ({
    ...timeOptions(p, { values: formatPercent, max: 1 }),
    series: [{}, ...pools.map((pool, i) => line(pool, p.series[i % p.series.length] ?? p.blue, pools.length === 1, formatPercent))],
  });
}

/** Bars over bucket indices; `bounds()` is read at draw time, so labels follow the latest data. */
export function histogramOptions(bounds: () => readonly number[]) {
  const label = (i: number | null): string => {
    if (i === null) return '';
    const b = bounds();
    const bound = b[i];
    if (bound !== undefined) return `≤${formatBound(bound)}`;
    const top = b[b.length - 1];
    return top !== undefined ? `>${formatBound(top)}` : 'all';
  };
  return (p: Palette): ChartOptions => ({
    scales: {
      x: { time: false, range: (u) => [-0.5, Math.max(0, u.data[0].length - 1) + 0.5] },
      y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] },
    },
    axes: [
      axis(p, {
        size: 32,
        grid: { show: false },
        splits: (u) => Array.from(u.data[0], (_, i) => i),
        values: (_u, splits) => splits.map(label),
        // Labels thin out when the panel is narrow: every second, third... one is drawn.
        filter: (u, splits) => {
          const plotWidth = Math.max(1, u.width - 60);
          const every = Math.max(1, Math.ceil((splits.length * 48) / plotWidth));
          return splits.map((s, i) => (i % every === 0 ? s : null));
        },
      }),
      axis(p, { size: 48, incrs: COUNT_INCRS, values: (_u, splits) => splits.map(countValue) }),
    ],
    legend: { show: false },
    cursor: { drag: { x: false, y: false, setScale: false }, points: { show: false } },
    series: [
      {},
      {
        label: 'Tasks',
        stroke: p.blue,
        fill: withAlpha(p.blue, p.highContrast ? 0.9 : 0.55),
        width: 1,
        paths: uPlot.paths.bars?.({ size: [0.8, 64], gap: 1 }),
        points: { show: false },
      },
    ],
  });
}
