/**
 * Renders the chart of a saved full run again (`bench/results/latest.svg` by default), e.g. after a partial run:
 *   npx tsx bench/render-chart.ts bench/results/<time>.json [out.svg]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart, type BenchRow } from './lib/report.js';
import { ROOT } from './lib/util.js';

const [input, output = join(ROOT, 'bench/results/latest.svg')] = process.argv.slice(2);
if (!input) {
  console.error('usage: npx tsx bench/render-chart.ts bench/results/<time>.json [out.svg]');
  process.exit(2);
}
const saved = JSON.parse(readFileSync(input, 'utf8')) as {
  date: string; kind: string; node: string; cpus: number; loadAverage: { start: number; end: number }; rows: BenchRow[];
};
const subtitle = `${saved.date.slice(0, 10)} · ${saved.kind} run · Node ${saved.node} · ${saved.cpus} CPUs · load average ${saved.loadAverage.start} → ${saved.loadAverage.end} · darker bars: Hookyard`;
writeFileSync(output, renderChart(saved.rows, subtitle, (row) => row.system.startsWith('Hookyard') || row.section === 'scale'));
console.log(`saved ${output}`);
