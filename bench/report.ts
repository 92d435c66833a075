// Report rendering speed: a ten-page report (the roi template plus six sections, each a chart and a
// 30-row table) rendered to HTML and printed to PDF with a warm browser — the scheduler's steady
// state, where one browser serves every report. Prints figures; asserts nothing.
// Run: npm exec -- node bench/report.ts [rounds]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { comparisonPeriod, resolvePeriod } from '../core/analytics/period.ts';
import type { TemplateData } from '../core/report/data.ts';
import { withBrowser } from '../core/report/pdf.ts';
import type { Row } from '../core/report/query.ts';
import { renderHtml } from '../core/report/render.ts';
import { loadReportSpec } from '../core/report/spec.ts';
import type { ReportSection, ReportSpec } from '../core/report/types.ts';

const rounds = Number(process.argv[2] ?? 5);
const base = loadReportSpec(resolve(import.meta.dirname, '../reports/roi.yaml'));
const channels = ['Paid Search', 'Paid Social', 'Display', 'Email', 'Organic Search', 'Referral', 'Direct'];
const queries: Record<string, Row[]> = {};
const sections: ReportSection[] = [...base.sections];
for (let s = 0; s < 6; s++) {
  queries[`q${s}`] = Array.from({ length: 30 }, (_, i) => ({ campaign: `campaign_${s}_${i}`, channel: channels[i % channels.length], spend: 1000 + i * 37, revenue: 3000 + ((i * 7919) % 5000), conversions: 10 + (i % 13) }));
  sections.push({ title: `Campaign group ${s + 1}`, queries: [{ name: `q${s}`, sql: 'select 1' }], charts: [{ name: `c${s}`, type: 'bar', query: `q${s}`, x: 'campaign', y: ['spend', 'revenue'], title: `Spend and revenue, group ${s + 1}` }] });
}
const spec: ReportSpec = { ...base, sections };
const period = resolvePeriod('2025-03', '2025-04-01');
const roi = channels.map((c, i) => ({ model: 'markov', dimension: 'channel', key: c, label: c, spend: 2000 + i * 500, revenue: 9000 - i * 800, conversions: 90 - i * 7, roas: (9000 - i * 800) / (2000 + i * 500), prev_spend: 2000, prev_revenue: 8000 }));
const data: TemplateData = { journeys: null, prevJourneys: null, timeToConvert: [], funnels: [], prevFunnels: [], flows: [], paths: [], cx: [], prevCx: [], roi, attribution: [], prevAttribution: [] };
const dir = mkdtempSync(join(tmpdir(), 'touchpoint-bench-report-'));

await withBrowser(async (browser) => {
  const html = renderHtml({ spec, period, comparison: comparisonPeriod(period), data, queries, pipelineName: 'bench' }).html;
  await browser.pdf(html, { size: 'A4', title: spec.title }); // warm-up
  const renderMs: number[] = [];
  const pdfMs: number[] = [];
  let pages = 0;
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    const out = renderHtml({ spec, period, comparison: comparisonPeriod(period), data, queries, pipelineName: 'bench' });
    renderMs.push(performance.now() - t);
    t = performance.now();
    const pdf = await browser.pdf(out.html, { size: 'A4', title: spec.title });
    pdfMs.push(performance.now() - t);
    writeFileSync(join(dir, 'bench.pdf'), pdf);
    pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [join(dir, 'bench.pdf')], { encoding: 'utf8' }))?.[1]);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`report bench: ${pages} pages, ${Math.round(html.length / 1024)} KiB HTML, ${rounds} rounds, warm browser`);
  console.log(`  html render  median ${median(renderMs).toFixed(0)} ms  (min ${Math.min(...renderMs).toFixed(0)}, max ${Math.max(...renderMs).toFixed(0)})`);
  console.log(`  pdf print    median ${median(pdfMs).toFixed(0)} ms  (min ${Math.min(...pdfMs).toFixed(0)}, max ${Math.max(...pdfMs).toFixed(0)})`);
  console.log(`  total        median ${(median(renderMs) + median(pdfMs)).toFixed(0)} ms  (aim < 3000 ms)   load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
});
rmSync(dir, { recursive: true, force: true });
