/**
 * The rows every benchmark returns, the combined table, and the chart (a hand-written SVG: one panel per section, a
 * bar per system for its throughput and, where measured, its p50–p99 latency on a log scale beside it).
 */
import { printTable } from './util.js';

export type Section = 'inbound' | 'outbound' | 'scale' | 'fan-out';

export interface BenchRow {
  section: Section;
  system: string;
  /** What `rate` counts per second: requests, deliveries, messages… */
  unit: string;
  rate: number;
  p50?: number;
  p99?: number;
  /** e.g. { bare: 0.21, adnanh: 1.9 }: this row's rate divided by that system's. */
  ratios?: Record<string, number>;
  note?: string;
  /** 1-minute load average just before this row's measurement. */
  loadAverage: number;
}

const round = (value: number) => (value >= 100 ? Math.round(value) : Math.round(value * 100) / 100);

export function ratioText(ratios: Record<string, number> | undefined): string {
  return Object.entries(ratios ?? {}).map(([name, value]) => `${value.toFixed(2)}× ${name}`).join(', ') || '-';
}

export function printRows(title: string, rows: BenchRow[], withSection = false): void {
  printTable(title, rows.map((row) => ({
    ...(withSection ? { section: row.section } : {}),
    system: row.system,
    rate: `${round(row.rate).toLocaleString('en-US')} ${row.unit}`,
    'p50 ms': row.p50 === undefined ? '-' : round(row.p50),
    'p99 ms': row.p99 === undefined ? '-' : round(row.p99),
    ratios: ratioText(row.ratios),
    'load avg': row.loadAverage.toFixed(2),
    note: row.note ?? '',
  })));
}

/**
 * One line per Hookyard row of `section` that has ratios: each ratio against its goal (`goalFor(name)`), met or missed.
 */
/** `goalFor`: the goal of a ratio, or undefined for a ratio that has none (it is printed as it is). */
export function goalLines(rows: BenchRow[], section: Section, goalFor: (name: string) => number | undefined): string[] {
  return rows
    .filter((row) => row.section === section && row.system.startsWith('Hookyard') && Object.keys(row.ratios ?? {}).length > 0)
    .map((row) => {
      const checks = Object.entries(row.ratios!).map(([name, value]) => {
        const goal = goalFor(name);
        if (goal === undefined) return `${value.toFixed(2)}× ${name}`;
        return `${value.toFixed(2)}× ${name} (goal ≥ ${goal}: ${value >= goal ? 'met' : 'missed'})`;
      });
      return `${row.system}: ${checks.join(', ')}`;
    });
}

/** The same table as Markdown (for bench/README.md). */
export function markdownRows(rows: BenchRow[]): string {
  const head = '| section | system | rate | p50 ms | p99 ms | ratios | load avg | note |\n|---|---|---|---|---|---|---|---|';
  const cell = (value: number | undefined) => (value === undefined ? '–' : String(round(value)));
  return [head, ...rows.map((row) => `| ${row.section} | ${row.system} | ${round(row.rate).toLocaleString('en-US')} ${row.unit} | ${cell(row.p50)} | ${cell(row.p99)} | ${ratioText(row.ratios).replace(/^-$/, '–')} | ${row.loadAverage.toFixed(2)} | ${row.note ?? ''} |`)].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------------
// The chart

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const LABEL_W = 360;
const BAR_W = 330;
const LAT_W = 250;
const ROW_H = 22;
const WIDTH = LABEL_W + BAR_W + 90 + LAT_W + 30;
const LAT_MIN = 0.1;
const LAT_MAX = 10_000;
const COLORS: Record<Section, string> = { inbound: '#3b82f6', outbound: '#10b981', scale: '#f59e0b', 'fan-out': '#8b5cf6' };
const TITLES: Record<Section, string> = {
  inbound: 'Inbound receiving: requests/s',
  outbound: 'Outbound delivery: deliveries/s',
  'fan-out': 'Fan-out, 1 message → 100 endpoints: deliveries/s',
  scale: 'Queue next to a backlog (the store alone, in one process): operations/s and the process\'s RSS',
};

function latencyX(ms: number): number {
  const clamped = Math.min(LAT_MAX, Math.max(LAT_MIN, ms));
  const left = LABEL_W + BAR_W + 90;
  return left + (Math.log10(clamped / LAT_MIN) / Math.log10(LAT_MAX / LAT_MIN)) * LAT_W;
}

/** Highlighted rows (Hookyard's) get a darker bar; the others a lighter one. */
export function renderChart(rows: BenchRow[], subtitle: string, highlight: (row: BenchRow) => boolean): string {
  const parts: string[] = [];
  let y = 56;
  for (const section of Object.keys(TITLES) as Section[]) {
    const panel = rows.filter((row) => row.section === section);
    if (panel.length === 0) continue;
    const max = Math.max(...panel.map((row) => row.rate));
    const withLatency = panel.some((row) => row.p50 !== undefined);
    parts.push(`<text x="10" y="${y}" class="h">${escape(TITLES[section])}</text>`);
    if (withLatency) parts.push(`<text x="${latencyX(LAT_MIN)}" y="${y}" class="s">latency: p50 ● — p99 | (ms, log scale)</text>`);
    y += 10;
    const top = y;
    for (const row of panel) {
      const width = max > 0 ? (row.rate / max) * BAR_W : 0;
      const color = COLORS[section];
      parts.push(`<text x="${LABEL_W - 8}" y="${y + 15}" class="l" text-anchor="end">${escape(row.system)}</text>`);
      parts.push(`<rect x="${LABEL_W}" y="${y + 4}" width="${width.toFixed(1)}" height="${ROW_H - 8}" fill="${color}" fill-opacity="${highlight(row) ? 1 : 0.45}"/>`);
      parts.push(`<text x="${(LABEL_W + width + 4).toFixed(1)}" y="${y + 15}" class="v">${Math.round(row.rate).toLocaleString('en-US')}${row.note && section === 'scale' ? ` · ${escape(row.note)}` : ''}</text>`);
      if (row.p50 !== undefined && row.p99 !== undefined) {
        const x50 = latencyX(row.p50);
        const x99 = latencyX(row.p99);
        parts.push(`<line x1="${x50.toFixed(1)}" y1="${y + 11}" x2="${x99.toFixed(1)}" y2="${y + 11}" stroke="#555" stroke-width="1.5"/>`);
        parts.push(`<circle cx="${x50.toFixed(1)}" cy="${y + 11}" r="4" fill="${color}" stroke="#333"/>`);
        parts.push(`<line x1="${x99.toFixed(1)}" y1="${y + 5}" x2="${x99.toFixed(1)}" y2="${y + 17}" stroke="#333" stroke-width="2"/>`);
      }
      y += ROW_H;
    }
    // Latency grid: 1, 10, 100, 1000 ms.
    for (let ms = 1; withLatency && ms <= 1000; ms *= 10) {
      const x = latencyX(ms).toFixed(1);
      parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${y}" stroke="#ddd"/>`);
      parts.push(`<text x="${x}" y="${y + 12}" class="s" text-anchor="middle">${ms}</text>`);
    }
    y += 34;
  }
  const height = y;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">
<style>.t{font-size:16px;font-weight:bold}.h{font-size:13px;font-weight:bold}.l{font-size:12px}.v{font-size:11px;fill:#333}.s{font-size:10px;fill:#666}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" class="t">Hookyard benchmarks</text>
<text x="10" y="38" class="s">${escape(subtitle)}</text>
${parts.join('\n')}
</svg>
`;
}
