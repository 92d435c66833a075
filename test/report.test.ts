// Reports end to end. (1) The demo pipeline runs in a temp folder and both demo reports render to HTML
// and PDF from its store with one shared browser: pages counted with pdfinfo, KPIs found in the text
// pdftotext extracts, every chart a well-formed SVG with a title. (2) On both engines, result rows
// inserted by the test (the analytics modules may be empty) give known KPIs, a known summary sentence,
// an escaped `<script>` campaign name, bound SQL parameters and a refused write. (3) The page's
// network is blocked: an <img> pointing at a local server never reaches it. Chromium and poppler must
// exist — nothing here skips.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemo } from '../bench/generator/demo.ts';
import { loadPipeline } from '../core/config/pipeline.ts';
import { runPipeline } from '../core/engine/run.ts';
import { createFormatter } from '../core/report/format.ts';
import { launchBrowser, type ReportBrowser } from '../core/report/pdf.ts';
import { runReadOnly } from '../core/report/query.ts';
import { assertWellFormedXml } from '../core/report/test-support.ts';
import { runReport } from '../core/report/run.ts';
import { loadReportSpec } from '../core/report/spec.ts';
import type { ReportSpec } from '../core/report/types.ts';
import { createLogger } from '../core/sdk/log.ts';
import { openStore } from '../core/store/index.ts';
import { describeEachEngine } from '../core/store/test-support.ts';

const ROOT = resolve(import.meta.dirname, '..');
const log = createLogger({ secrets: [], level: 'error', write: () => {} });
const fmt = createFormatter('en-GB', 'EUR');

function pdfText(file: string): { pages: number; text: string } {
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  const pages = Number(/Pages:\s+(\d+)/.exec(info)?.[1]);
  return { pages, text: execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }) };
}

function svgs(html: string): string[] {
  return html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
}

let browser: ReportBrowser;
beforeAll(async () => {
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe('demo reports (DuckDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-report-demo-'));
  const env = { TOUCHPOINT_DATABASE_URL: `duckdb://${join(dir, 'demo.duckdb')}` };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    await generateDemo({ out: join(dir, 'data/demo'), people: 400, seed: 7, start: '2025-01-01', days: 90 });
    mkdirSync(join(dir, 'pipelines'));
    cpSync(join(ROOT, 'pipelines/demo.yaml'), join(dir, 'pipelines/demo.yaml'));
    const result = await runPipeline(loadPipeline(join(dir, 'pipelines/demo.yaml'), { env }), { log, env, cwd: dir });
    expect(result.status).toBe('succeeded');
  }, 240_000);

  for (const name of ['cx', 'roi']) {
    it(`${name}: HTML and PDF with its KPIs, charts with titles`, async () => {
      const spec: ReportSpec = { ...loadReportSpec(join(ROOT, `reports/${name}.yaml`)), pipeline: join(dir, 'pipelines/demo.yaml') };
      const report = await runReport({ spec, env, cwd: dir, log, browser, outDir: join(dir, 'out') });
      expect(report.period.key).toBe('2025-03-01..2025-03-31');
      expect(report.files.html).toBe(join(dir, 'out', `${name}-2025-03-01..2025-03-31.html`));
      const html = readFileSync(report.files.html!, 'utf8');
      expect(html).toContain(report.summary.replace(/&/g, '&amp;'));
      expect(html.toLowerCase()).not.toContain('<script');
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      for (const svg of svgs(html)) {
        assertWellFormedXml(svg);
        expect(svg).toMatch(/^<svg[^>]*><title>[^<]+<\/title>/);
      }
      const { pages, text } = pdfText(report.files.pdf!);
      expect(pages).toBeGreaterThanOrEqual(2);
      expect(text).toContain(spec.title);
      expect(text).toMatch(/page 1 of \d+/);
      if (name === 'cx') {
        expect(report.kpis.journeys).toBeGreaterThan(0);
        expect(text).toContain('Key figures');
        expect(text).toContain(fmt.number(report.kpis.journeys));
        expect(text).toContain(fmt.number(report.kpis.conversions));
        expect(svgs(html).length).toBeGreaterThanOrEqual(1);
        // Rates and NPS change in points; satisfaction is a monthly trend (demo: Jan–Mar), not one point.
        expect(text).toMatch(/[▲▼] [+-]\d+\.\d pts/);
        const nps = svgs(html).find((svg) => svg.includes('<title>Net Promoter Score by month</title>'));
        expect(nps).toBeDefined();
        for (const month of ['Jan 2025', 'Feb 2025', 'Mar 2025']) expect(nps).toContain(month);
      } else if (report.kpis.spend !== null) {
        expect(text).toContain(fmt.currency_(report.kpis.spend));
      }
    }, 120_000);
  }
});

describeEachEngine('report from stored result rows', (engine) => {
  it('gives known KPIs and summary, escapes names, binds parameters and refuses writes', async () => {
    const store = await openStore({ url: await engine.freshUrl() });
    try {
      await store.migrate();
      const evil = '<script>alert(1)</script>';
      const stamp = (period: string, start: string, end: string) => ({ period, period_start: start, period_end: end, run_id: 'test', computed_at: new Date() });
      const march = stamp('2025-03-01..2025-03-31', '2025-03-01', '2025-03-31');
      const feb = stamp('2025-02-01..2025-02-28', '2025-02-01', '2025-02-28');
      const roi = (dimension: string, key: string, spend: number, revenue: number, prev: number, channel = key) => ({ ...march, model: 'markov', dimension, key, label: key, channel, spend, revenue, conversions: revenue / 100, roas: revenue / spend, prev_spend: spend, prev_revenue: prev, currency: 'EUR' });
      await store.knex('roi_results').insert([roi('total', 'total', 10_000, 48_200, 43_000), roi('channel', 'Paid Search', 6_000, 36_000, 30_000), roi('channel', 'Display', 4_000, 12_200, 13_000), roi('campaign', evil, 500, 900, 800, 'Display')]);
      await store.knex('attribution_results').insert([
        { ...march, model: 'markov', dimension: 'channel', key: 'Paid Search', label: 'Paid Search', conversions: 360, revenue: 36_000, revenue_share: 0.75 },
        { ...march, model: 'linear', dimension: 'channel', key: 'Paid Search', label: 'Paid Search', conversions: 300, revenue: 30_000, revenue_share: 0.62 },
      ]);
      await store.knex('funnel_results').insert(['awareness', 'consideration', 'purchase'].map((step, i) => ({ ...march, funnel: 'stages', segment_type: 'all', segment_value: '(all)', step_number: i + 1, step, entrants: [1000, 400, 120][i], conversions: [400, 120, 120][i], drop_off: [600, 280, 0][i], drop_off_rate: [0.6, 0.7, 0][i], overall_rate: [1, 0.4, 0.12][i] })));
      await store.knex('cx_metrics').insert([{ ...march, metric: 'nps', segment_type: 'all', segment_value: '(all)', value: 41, n: 230, unit: 'score' }, { ...feb, metric: 'nps', segment_type: 'all', segment_value: '(all)', value: 35, n: 200, unit: 'score' }]);
      const journey = (id: string, day: string, converted: boolean) => ({ journey_id: id, person_id: `p${id}`, status: converted ? 'converted' : 'open', journey_number: 1, conversion_at: converted ? `${day}T12:00:00Z` : null, started_at: `${day}T00:00:00Z`, ended_at: `${day}T12:00:00Z`, touch_count: 2, session_count: 1 });
      await store.knex('journeys').insert([journey('1', '2025-03-05', true), journey('2', '2025-03-06', false), journey('3', '2025-03-07', false), journey('4', '2025-02-10', true)]);

      const base = loadReportSpec(join(ROOT, 'reports/roi.yaml'));
      const spec: ReportSpec = {
        ...base,
        period: '2025-03',
        sections: [
          ...base.sections,
          {
            title: 'Custom',
            queries: [
              { name: 'by_sql', sql: 'select key, revenue from roi_results where period = :period and dimension = :dim order by revenue desc', params: { dim: 'channel' } },
              { name: 'by_table', table: 'roi_results', where: { dimension: 'channel' }, order_by: 'revenue desc', limit: 1, columns: ['key', 'roas'] },
            ],
            charts: [{ name: 'c', type: 'bar', query: 'by_sql', x: 'key', y: 'revenue', title: 'Revenue of each channel' }],
          },
        ],
      };
      const pipeline = loadPipeline(join(ROOT, 'pipelines/demo.yaml'));
      const dir = mkdtempSync(join(tmpdir(), 'touchpoint-report-rows-'));
      const report = await runReport({ spec, store, pipeline, log, browser, compute: false, outDir: dir });
      expect(report.kpis).toMatchObject({ spend: 10_000, revenue: 48_200, prev_revenue: 43_000 });
      expect(report.summary).toBe('Attributed revenue rose 12% to €48,200 vs the previous period, driven by Paid Search (return on ad spend 4.8×, was 4.3×).');
      expect(report.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(report.html.toLowerCase()).not.toContain('<script');
      expect(report.html).toContain('<title>Revenue of each channel</title>');
      expect(report.html).toMatch(/<td>Paid Search<\/td><td class="num">€36,000<\/td>/);
      expect(report.html).toMatch(/<td>Paid Search<\/td><td class="num">6\.0×<\/td>/);
      const { text } = pdfText(report.files.pdf!);
      for (const figure of ['€10,000', '€48,200', '4.8×', 'Where budget would move']) expect(text).toContain(figure);
      rmSync(dir, { recursive: true, force: true });

      const cx = await runReport({ spec: { ...loadReportSpec(join(ROOT, 'reports/cx.yaml')), period: '2025-03' }, store, pipeline, log, compute: false, formats: ['html'] });
      expect(cx.kpis).toMatchObject({ journeys: 3, conversions: 1, revenue: 48_200, median_seconds_to_convert: 43_200, prev_journeys: 1 });
      expect(cx.html).toContain('No data for this period');
      expect(cx.html).toContain('NPS');

      // A data-modifying CTE passes the SELECT/WITH check; the read-only transaction still refuses it.
      await expect(runReadOnly(store.knex, 'with d as (delete from roi_results returning *) select count(*) from d', {})).rejects.toThrow();
      const [{ n }] = await store.knex('roi_results').count({ n: '*' });
      expect(Number(n)).toBe(4);
    } finally {
      await store.close();
    }
  }, 120_000);
});

describe('PDF rendering', () => {
  it('blocks the page network: a remote image never reaches the server', async () => {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('x');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const html = `<!doctype html><html><head><link rel="stylesheet" href="http://127.0.0.1:${port}/style.css"></head><body><h1>Blocked</h1><img src="http://127.0.0.1:${port}/x"><iframe src="http://127.0.0.1:${port}/frame"></iframe><div style="background:url(http://127.0.0.1:${port}/bg)">bg</div><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></body></html>`;
      const pdf = await browser.pdf(html, { size: 'A4', title: 'network test' });
      expect(Buffer.from(pdf).subarray(0, 5).toString()).toBe('%PDF-');
      await new Promise((r) => setTimeout(r, 200));
      expect(hits).toEqual([]);
    } finally {
      server.close();
    }
  }, 60_000);

  it('prints a Letter landscape page with the header title and page numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'touchpoint-report-pdf-'));
    const file = join(dir, 'x.pdf');
    writeFileSync(file, await browser.pdf('<p>hello</p>', { size: 'Letter', orientation: 'landscape', title: 'My <Report>' }));
    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    expect(info).toMatch(/Page size:\s+792 x 612/);
    expect(pdfText(file).text).toMatch(/My <Report>[\s\S]*page 1 of 1/);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
