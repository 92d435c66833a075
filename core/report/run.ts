// Renders one report for one period: open the pipeline's store, make sure the analytics tables hold
// the period (and its comparison period) — those whose stored results are current (computed by the
// pipeline run or an earlier report with the same settings, no data change since) are read as they
// are, the others computed, which replaces those periods' rows — run the
// report's queries, render HTML, print the PDF, and write `<outDir>/<name>-<periodKey>.html|.pdf`.
// Sending is deliver.ts's business; this only renders.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPipeline } from '../config/pipeline.ts';
import type { LoadedPipeline } from '../config/types.ts';
import { analyticsConfigOf, computeStale, resolvePeriods } from '../analytics/stage.ts';
import { comparisonPeriod } from '../analytics/period.ts';
import type { PeriodSpec, ResolvedPeriod } from '../analytics/period.ts';
import { newRunId, storeUrlFor } from '../engine/run.ts';
import type { Logger } from '../sdk/types.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { templateData } from './data.ts';
import { launchBrowser, type ReportBrowser } from './pdf.ts';
import { runSpecQueries } from './query.ts';
import { renderHtml } from './render.ts';
import type { ReportFormat, RenderedReport, ReportSpec } from './types.ts';
import { periodLabel } from './view.ts';

export interface RunReportOptions {
  spec: ReportSpec;
  /** Use this store (not closed); default: the pipeline's. */
  store?: Store;
  /** Override the spec's period (`--period`). */
  period?: PeriodSpec;
  /** Write the files here (default: nothing written). */
  outDir?: string;
  formats?: ReportFormat[];
  /** A browser shared across reports; default: one launched (and closed) for this report. */
  browser?: ReportBrowser;
  log: Logger;
  now?: Date;
  /** Compute the period's analytics first unless stored results are current (default true; false reads what is stored). */
  compute?: boolean;
  env?: Record<string, string | undefined>;
  /** Project folder for the pipeline's default store (default cwd). */
  cwd?: string;
  /** The loaded pipeline, when the caller has it already. */
  pipeline?: LoadedPipeline;
}

/** The result tables' form of a period for computeAnalytics: a calendar month stays a month (its comparison is the previous month). */
function periodSpecOf(p: ResolvedPeriod): PeriodSpec {
  if (!p.startDate || !p.endDate) return 'all';
  if (p.unit === 'month') return p.startDate.slice(0, 7);
  return `${p.startDate}..${p.endDate}`;
}

export async function runReport(options: RunReportOptions): Promise<RenderedReport> {
  const started = performance.now();
  const { spec, log } = options;
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const pipeline = options.pipeline ?? loadPipeline(spec.pipeline, { env, cwd });
  const store = options.store ?? (await openStore({ url: storeUrlFor(pipeline, env, cwd), baseDir: cwd }));
  try {
    if (!options.store) await store.migrate();
    const base = analyticsConfigOf(pipeline);
    const config = { ...base, as_of: spec.as_of ?? base.as_of, comparison: spec.comparison };
    const [period] = await resolvePeriods(store.knex, config, [options.period ?? spec.period], options.now);
    const comparison = comparisonPeriod(period, spec.comparison);
    if (options.compute !== false) {
      const runId = `report-${newRunId(options.now)}`;
      const periods = [periodSpecOf(period), ...(comparison ? [periodSpecOf(comparison)] : [])];
      const { computed, reused } = await computeStale(store, config, { runId, log, periods, now: options.now });
      log.debug('report: analytics', { report: spec.name, computed: computed.map((s) => s.period), reused });
    }
    const queries = spec.sections.flatMap((s) => s.queries ?? []);
    const db = store.knex;
    const data = await templateData(db, spec.template, spec.model, period, comparison);
    const own = await runSpecQueries({ db, spec, period, comparison }, queries);
    const rendered = renderHtml({ spec, period, comparison, data, queries: own, pipelineName: pipeline.config.name, now: options.now });
    const formats = options.formats ?? spec.formats;
    const result: RenderedReport = { spec, period, comparison, summary: rendered.summary, html: rendered.html, files: {}, kpis: rendered.kpis, renderMs: 0 };
    if (formats.includes('pdf')) {
      const browser = options.browser ?? (await launchBrowser(env));
      try {
        const footer = [spec.branding.company, periodLabel(period, spec.locale)].filter(Boolean).join(' · ');
        result.pdf = await browser.pdf(rendered.html, { size: spec.page.size, orientation: spec.page.orientation, title: spec.title, footer });
      } finally {
        if (!options.browser) await browser.close();
      }
    }
    if (options.outDir) {
      const dir = resolve(cwd, options.outDir);
      mkdirSync(dir, { recursive: true });
      const stem = join(dir, `${spec.name}-${period.key}`);
      if (formats.includes('html')) writeFileSync((result.files.html = `${stem}.html`), rendered.html);
      if (result.pdf) writeFileSync((result.files.pdf = `${stem}.pdf`), result.pdf);
    }
    result.renderMs = Math.round(performance.now() - started);
    log.info('report rendered', { report: spec.name, period: period.key, ms: result.renderMs, charts: rendered.charts.length });
    return result;
  } finally {
    if (!options.store) await store.close();
  }
}
