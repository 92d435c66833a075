// Report rendering without a store: formatting, named-parameter binding, charts (well-formed SVG with
// a title), spec validation errors at file:line:col, strict escaping of user data in the HTML, and the
// refusal of triple-stash templates. The store-backed and PDF cases are in test/report.test.ts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePeriod, comparisonPeriod } from '../analytics/period.ts';
import { ConfigErrors } from '../errors.ts';
import { renderChart, type ChartData } from './charts.ts';
import type { TemplateData } from './data.ts';
import { createFormatter, deltaHtml } from './format.ts';
import { kpiLines } from './view.ts';
import { sankeyFlows } from './view-cx.ts';
import { bindNamed } from './query.ts';
import { assertEscaped, renderHtml } from './render.ts';
import { deliveryFormats, findReport, loadReportSpec } from './spec.ts';
import { assertWellFormedXml } from './test-support.ts';

const ROOT = resolve(import.meta.dirname, '../..');

const fmt = createFormatter('en-GB', 'EUR');

describe('format', () => {
  it('formats money, rates, ratios, durations and changes in the locale', () => {
    expect(fmt.currency_(48213.57)).toBe('€48,214');
    expect(fmt.currency_(12.5)).toBe('€12.50');
    expect(fmt.percent(0.1234)).toBe('12.3%');
    expect(fmt.ratio(3.456)).toBe('3.5×');
    expect(fmt.points(11.64)).toBe('+11.6 pts');
    expect(fmt.currency_(844, 0)).toBe('€844');
    expect(fmt.duration(3 * 86_400)).toBe('3 days');
    expect(fmt.change(0.12)).toBe('+12.0%');
    expect(createFormatter('de-DE', 'EUR').currency_(48200).replace(/\s/g, ' ')).toBe('48.200 €');
  });

  it('draws ▲/▼ with a colour class, and n/a for a missing change', () => {
    expect(deltaHtml(fmt, 0.12)).toBe('<span class="delta up good">▲ +12.0%</span>');
    expect(deltaHtml(fmt, 0.05, true)).toContain('bad');
    expect(deltaHtml(fmt, -0.2)).toContain('▼');
    expect(deltaHtml(fmt, null)).toBe('<span class="delta na">n/a</span>');
    expect(deltaHtml(fmt, -2.04, false, true)).toBe('<span class="delta down bad">▼ -2.0 pts</span>');
  });

  it('writes the email\'s key figures with labels, formats and changes (rates in points)', () => {
    const lines = kpiLines({ journeys: 856, conversion_rate: 0.086, revenue: 164_094.14999999997, median_seconds_to_convert: 551_699, nps: 39.4, prev_nps: 27.8, prev_journeys: 742, prev_conversion_rate: 0.106 }, 'en-GB', 'EUR');
    expect(lines.map((l) => `${l.label}: ${l.display}${l.change ? ` (${l.change})` : ''}`)).toEqual([
      'Journeys: 856 (+15.4%)',
      'Conversion rate: 8.6% (-2.0 pts)',
      'Revenue: €164,094',
      'Median time to convert: 6.4 days',
      'Net Promoter Score: 39.4 (+11.6 pts)',
    ]);
  });
});

describe('query parameters', () => {
  const params = { period: '2025-03-01..2025-03-31', model: 'markov', n: 3 };

  it('binds :named parameters as placeholders, leaving strings, comments and casts alone', () => {
    const bound = bindNamed("select ':period' as s, x::date -- :nope\nfrom t where period = :period and model = :model limit :n;", params);
    expect(bound.sql).toBe("select ':period' as s, x::date \nfrom t where period = ? and model = ? limit ?");
    expect(bound.values).toEqual(['2025-03-01..2025-03-31', 'markov', 3]);
  });

  it('refuses unknown parameters, ? placeholders, second statements and writes', () => {
    expect(() => bindNamed('select :missing', params)).toThrow(/unknown parameter :missing/);
    expect(() => bindNamed('select ?', params)).toThrow(/placeholders/);
    expect(() => bindNamed('select 1; drop table events', params)).toThrow(/single statement/);
    expect(() => bindNamed('delete from events', params)).toThrow(/SELECT or WITH/);
    expect(() => bindNamed('with x as (select 1) select * from x', params)).not.toThrow();
  });
});

describe('charts', () => {
  const base = { title: 'Revenue by channel <script>', xLabel: 'Channel', yLabel: 'EUR' };
  const charts: ChartData[] = [
    { ...base, type: 'bar', categories: ['Paid Search', '<b>Email</b>'], series: [{ name: 'Spend', values: [1, 2] }, { name: 'Revenue', values: [3, 4], type: 'line', axis: 1 }], y2Label: 'Revenue' },
    { ...base, type: 'line', categories: ['Jan', 'Feb'], series: [{ name: 'NPS', values: [30, null] }] },
    { ...base, type: 'funnel', items: [{ name: 'Visit', value: 100 }, { name: 'Buy', value: 10 }] },
    { ...base, type: 'sankey', links: [{ source: 'a', target: 'b', value: 3 }, { source: 'b', target: 'c & d', value: 2 }] },
    { ...base, type: 'heatmap', categories: ['markov', 'linear'], yCategories: ['Email', 'Direct'], cells: [[0, 0, 0.2], [1, 1, 0.5]] },
    { ...base, type: 'pie', items: [{ name: 'A', value: 1 }, { name: 'B', value: 3 }] },
  ];
  for (const c of charts) {
    it(`${c.type}: well-formed SVG with its title, labels escaped`, () => {
      const svg = renderChart(c, fmt);
      expect(svg.startsWith('<svg')).toBe(true);
      assertWellFormedXml(svg);
      expect(svg).toContain('<title>Revenue by channel &lt;script&gt;</title>');
      expect(svg).not.toContain('<script');
      expect(svg).not.toContain('<b>');
    });
  }
});

describe('report spec', () => {
  it('loads the demo reports with defaults resolved', () => {
    const spec = loadReportSpec(join(ROOT, 'reports/cx.yaml'));
    expect(spec).toMatchObject({ name: 'cx', template: 'cx', period: 'last_month', currency: 'EUR', as_of: 'latest_data', formats: ['html', 'pdf'] });
    expect(spec.pipeline).toBe(join(ROOT, 'pipelines/demo.yaml'));
    expect(spec.sections.map((s) => s.kind)).toEqual(['kpis', 'funnel', 'paths', 'pain_points', 'time_to_convert', 'satisfaction']);
    expect(spec.delivery).toMatchObject({ attach_pdf: true, allowed_domains: ['example.com'], owner: 'data-team@example.com' });
    expect(spec.schedule).toMatchObject({ timezone: 'Europe/Berlin', refresh: true });
    expect(findReport('roi', ROOT)).toBe(join('reports', 'roi.yaml'));
    expect(() => findReport('nope', ROOT)).toThrow(/no report named "nope"/);
  });

  it('renders what a delivery needs: the HTML body, and the PDF when attached, whatever was asked', () => {
    const spec = loadReportSpec(join(ROOT, 'reports/cx.yaml'));
    // `--send` of a report whose formats are HTML only used to render no PDF and then fail to attach it.
    expect(deliveryFormats({ ...spec, formats: ['html'] }).toSorted()).toEqual(['html', 'pdf']);
    expect(deliveryFormats(spec, ['pdf']).toSorted()).toEqual(['html', 'pdf']);
    expect(deliveryFormats({ ...spec, formats: ['html'], delivery: { ...spec.delivery!, attach_pdf: false } })).toEqual(['html']);
  });

  it('reports every problem at file:line:col with a hint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'touchpoint-report-spec-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ['name: Bad Name', 'pipeline: missing.yaml', 'template: cx', 'formats: [docx]', 'sections:', '  - title: S', '    queries:', '      - { name: q, sql: "update events set value = 0" }', '    charts:', '      - { type: bar, query: other, title: T }', ''].join('\n'));
    let error: unknown;
    try {
      loadReportSpec(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigErrors);
    const text = (error as ConfigErrors).format();
    expect(text).toContain(`${file}:1:7 name:`);
    expect(text).toContain(`${file}:2:11 pipeline: pipeline file "missing.yaml" not found`);
    expect(text).toContain(`${file}:4:11 formats[0]: must be one of: html, pdf`);
    expect(text).toMatch(new RegExp(`${file}:8:\\d+ sections\\[0\\]\\.queries\\[0\\]\\.sql: a report query may only read`));
    expect(text).toMatch(new RegExp(`${file}:10:\\d+ sections\\[0\\]\\.charts\\[0\\]\\.query: no query named "other"`));
    expect(text).toContain('hint:');
  });
});

describe('HTML rendering', () => {
  const spec = loadReportSpec(join(ROOT, 'reports/roi.yaml'));
  const period = resolvePeriod('2025-03', '2025-04-01');
  const comparison = comparisonPeriod(period);
  const evil = '<script>alert(1)</script>';
  const roi = (dimension: string, key: string, spend: number, revenue: number, prev: number, extra: Record<string, unknown> = {}) => ({ model: 'markov', dimension, key, label: key, channel: extra.channel ?? key, spend, revenue, conversions: revenue / 100, roas: spend ? revenue / spend : null, prev_spend: spend, prev_revenue: prev, roas_change: 0.1, ...extra });
  const data: TemplateData = {
    journeys: { journeys: 1000, conversions: 120, median_seconds_to_convert: 86_400 * 3 },
    prevJourneys: { journeys: 900, conversions: 100, median_seconds_to_convert: 86_400 * 4 },
    timeToConvert: [],
    funnels: [],
    prevFunnels: [],
    flows: [],
    paths: [],
    cx: [],
    prevCx: [],
    roi: [
      roi('total', 'total', 10_000, 48_200, 43_000),
      roi('channel', 'Paid Search', 6_000, 36_000, 30_000),
      roi('channel', 'Display', 4_000, 2_000, 3_000),
      roi('campaign', evil, 500, 900, 800, { channel: 'Display' }),
    ],
    attribution: [{ model: 'markov', key: 'Paid Search', label: 'Paid Search', revenue: 36_000, revenue_share: 0.9 }],
    prevAttribution: [],
  };

  it('escapes user data, writes no script, and states the headline change in words', () => {
    const out = renderHtml({ spec, period, comparison, data, queries: {}, pipelineName: 'demo', now: new Date('2025-04-02T08:00:00Z') });
    expect(out.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out.html.toLowerCase()).not.toContain('<script');
    expect(out.summary).toBe('Attributed revenue rose 12% to €48,200 vs the previous period, driven by Paid Search (return on ad spend 4.8×, was 4.3×).');
    expect(out.html).toContain(out.summary);
    expect(out.kpis.revenue).toBe(48_200);
    expect(out.html).toMatch(/Display returns only €0.50 per €1 on €4,000 of spend \(40% of the paid budget\)/);
    expect(out.html).toContain('Under the Markov model, paid channels returned €3.80 per €1 of ad spend on average');
    expect(out.charts.length).toBeGreaterThanOrEqual(2);
  });

  it('cx: NPS and CSAT trend by month, changes of rates and scores in points', () => {
    const cxSpec = loadReportSpec(join(ROOT, 'reports/cx.yaml'));
    const month = (metric: string, m: string, value: number, unit: string) => ({ metric, segment_type: 'month', segment_value: m, value, n: 20, unit });
    const overall = (metric: string, value: number, unit: string) => ({ metric, segment_type: 'all', segment_value: '(all)', value, n: 33, unit });
    const cx: TemplateData = {
      ...data,
      cx: [overall('nps', 39.4, 'score'), overall('csat', 0.758, 'ratio'), overall('nps_detractors', 15.2, 'percent')],
      prevCx: [overall('nps', 27.8, 'score'), overall('csat', 0.722, 'ratio'), overall('nps_detractors', 27.8, 'percent')],
      cxTrend: [month('nps', '2025-01', 54.5, 'score'), month('csat', '2025-01', 0.909, 'ratio'), month('nps', '2025-02', 27.8, 'score'), month('csat', '2025-02', 0.722, 'ratio'), month('nps', '2025-03', 39.4, 'score'), month('csat', '2025-03', 0.758, 'ratio')],
    };
    const out = renderHtml({ spec: cxSpec, period, comparison, data: cx, queries: {}, pipelineName: 'demo' });
    expect(out.charts).toContain('Net Promoter Score by month');
    expect(out.charts).toContain('CSAT by month: share satisfied');
    const svg = /<svg[^>]*aria-label="Net Promoter Score by month"[\s\S]*?<\/svg>/.exec(out.html)![0];
    for (const label of ['Jan 2025', 'Feb 2025', 'Mar 2025', '54.5', '27.8', '39.4']) expect(svg).toContain(label);
    expect(out.html).toContain('▲ +11.6 pts');
    expect(out.html).toContain('▲ +3.6 pts');
    // Fewer detractors is good news: green, in points.
    expect(out.html).toContain('<span class="delta down good">▼ -12.6 pts</span>');
    // Conversion rate 12.0% from 11.1%: a change in points, not +8.0%.
    expect(out.html).toContain('▲ +0.9 pts');
    expect(out.kpis).toMatchObject({ nps: 39.4, prev_nps: 27.8, csat: 0.758, conversion_rate: 0.12 });
  });

  it('cx: the Sankey names at most six channels per column, the rest as Other', () => {
    const channels = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I'];
    const flows = channels.flatMap((from, i) => [1, 2, 3].flatMap((step) => [
      { step, from_state: from, to_state: channels[(i + step) % channels.length], journeys: 100 - i * 10, collapsed: true },
      { step, from_state: from, to_state: '(conversion)', journeys: 5, collapsed: true },
      { step, from_state: from, to_state: '(null)', journeys: 50, collapsed: true },
    ]));
    const { links, nodes } = sankeyFlows(flows);
    for (const column of [0, 1, 2, 3]) {
      const inColumn = nodes.filter((n) => n.startsWith(`${column}|`)).map((n) => n.slice(2));
      expect(inColumn.filter((n) => n !== 'Other' && n !== 'Converted').length).toBeLessThanOrEqual(6);
      if (column === 0) {
        expect(inColumn).toHaveLength(7);
        expect(inColumn.at(-1)).toBe('Other');
      }
    }
    expect(links.some((l) => l.target === '1|Converted')).toBe(true);
    expect(links.every((l) => !l.target.includes('(null)'))).toBe(true);
    const total = links.filter((l) => l.source.startsWith('0|')).reduce((n, l) => n + l.value, 0);
    expect(total).toBe(channels.reduce((n, _, i) => n + 100 - i * 10 + 5, 0));
  });

  it('says "No data for this period" in every empty section', () => {
    const empty: TemplateData = { ...data, journeys: null, prevJourneys: null, roi: [], attribution: [] };
    const out = renderHtml({ spec, period, comparison, data: empty, queries: {}, pipelineName: 'demo' });
    expect(out.summary).toBe('No data for March 2025.');
    expect(out.html.match(/No data for this period/g)).toHaveLength(spec.sections.length);
  });

  it('refuses templates that would write values unescaped', () => {
    expect(() => assertEscaped('<p>{{{summary}}}</p>', 'x.hbs')).toThrow(/may not use/);
    expect(() => assertEscaped('<p>{{& summary}}</p>', 'x.hbs')).toThrow(/may not use/);
    expect(() => assertEscaped('<p>{{summary}}</p>', 'x.hbs')).not.toThrow();
  });
});

describe('docs/reports.md', () => {
  it('holds the reference generated from report.schema.json', async () => {
    const { renderReportDocs, REPORT_DOCS_FILE } = await import('./gen-docs.ts');
    const current = readFileSync(REPORT_DOCS_FILE, 'utf8');
    expect(renderReportDocs(current)).toBe(current);
  });
});
