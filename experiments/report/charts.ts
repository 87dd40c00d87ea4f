// Figures with Chart.js drawn on @napi-rs/canvas: each chart is rendered twice,
// once on a raster canvas (PNG) and once on the canvas's SVG backend (vector,
// text converted to paths so the SVG needs no fonts). Chart.js has no error
// bars, so a small plugin draws the 95% intervals from each dataset's `lo` /
// `hi` arrays.
import { createCanvas, SvgExportFlag } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration, type Plugin } from 'chart.js';

Chart.register(...registerables);
// a font that is there (the canvas maps unknown families unpredictably, sometimes to a serif)
Chart.defaults.font.family = "'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif";

export interface RenderedFigure {
  png: Buffer;
  svg: string;
}

/** Paint the background white (PNG and SVG would otherwise be transparent). */
const whiteBackground: Plugin = {
  id: 'umbraBackground',
  beforeDraw(chart) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

/** Datasets may carry `errorLo` / `errorHi` arrays (same length as data): drawn as I-bars. */
const errorBars: Plugin = {
  id: 'umbraErrorBars',
  afterDatasetsDraw(chart) {
    const ctx = chart.ctx;
    chart.data.datasets.forEach((ds, di) => {
      const d = ds as unknown as { errorLo?: (number | null)[]; errorHi?: (number | null)[]; yAxisID?: string; borderColor?: string };
      if (!d.errorLo || !d.errorHi) return;
      const meta = chart.getDatasetMeta(di);
      if (meta.hidden) return;
      const scale = chart.scales[d.yAxisID ?? 'y'];
      if (!scale) return;
      ctx.save();
      // intervals can reach past the axes (wide with few seeds): clip to the plot area
      const area = chart.chartArea;
      ctx.beginPath();
      ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
      ctx.clip();
      ctx.strokeStyle = '#222222';
      ctx.lineWidth = 1.2;
      meta.data.forEach((el, i) => {
        const lo = d.errorLo![i];
        const hi = d.errorHi![i];
        if (lo === null || hi === null || lo === undefined || hi === undefined) return;
        const x = (el as unknown as { x: number }).x;
        const yLo = scale.getPixelForValue(lo);
        const yHi = scale.getPixelForValue(hi);
        const w = 5;
        ctx.beginPath();
        ctx.moveTo(x, yLo);
        ctx.lineTo(x, yHi);
        ctx.moveTo(x - w, yLo);
        ctx.lineTo(x + w, yLo);
        ctx.moveTo(x - w, yHi);
        ctx.lineTo(x + w, yHi);
        ctx.stroke();
      });
      ctx.restore();
    });
  },
};

/** Text labels next to points: datasets with `pointLabels` (same length as data); labels that would overlap are stacked. */
const pointLabels: Plugin = {
  id: 'umbraPointLabels',
  afterDatasetsDraw(chart) {
    const ctx = chart.ctx;
    const placed: { x: number; y: number; w: number }[] = [];
    ctx.save();
    ctx.fillStyle = '#333333';
    ctx.font = "11px 'DejaVu Sans', sans-serif";
    chart.data.datasets.forEach((ds, di) => {
      const labels = (ds as unknown as { pointLabels?: string[] }).pointLabels;
      if (!labels) return;
      const meta = chart.getDatasetMeta(di);
      meta.data.forEach((el, i) => {
        const p = el as unknown as { x: number; y: number };
        const text = labels[i];
        if (!text) return;
        const w = ctx.measureText(text).width;
        const x = p.x + 6;
        let y = p.y - 6;
        while (placed.some((q) => Math.abs(q.y - y) < 12 && x < q.x + q.w && q.x < x + w)) y += 12;
        placed.push({ x, y, w });
        ctx.fillText(text, x, y);
      });
    });
    ctx.restore();
  },
};

export const PALETTE = ['#1b6ca8', '#d1495b', '#00a676', '#edae49', '#6a4c93', '#3d5a80', '#8d6346', '#e07a5f', '#2a9d8f', '#7f7f7f', '#b5179e', '#4d908e'];

export function colour(i: number): string {
  return PALETTE[i % PALETTE.length];
}

function draw(canvas: { getContext(id: '2d'): unknown }, config: ChartConfiguration): Chart {
  const cfg = {
    ...config,
    options: { ...(config.options ?? {}), responsive: false, animation: false, devicePixelRatio: 1 },
    plugins: [whiteBackground, errorBars, pointLabels, ...(config.plugins ?? [])],
  } as ChartConfiguration;
  // Chart.js takes any 2D context; in Node it picks its basic (DOM-less) platform
  return new Chart(canvas.getContext('2d') as never, cfg);
}

export async function renderFigure(config: ChartConfiguration, width = 760, height = 420): Promise<RenderedFigure> {
  const raster = createCanvas(width, height);
  const c1 = draw(raster, config);
  const png = await raster.encode('png');
  c1.destroy();
  // text as paths, so the SVG needs no fonts (this binding takes one flag at a time)
  const vector = createCanvas(width, height, SvgExportFlag.ConvertTextToPaths);
  const c2 = draw(vector, config);
  const svg = vector.getContent().toString('utf8');
  c2.destroy();
  return { png, svg };
}
