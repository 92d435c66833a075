// The report contract shared by rendering (core/report: spec, queries, templates, charts, PDF),
// delivery (core/report/deliver.ts: freshness gate, email, the deliveries ledger) and scheduling
// (core/schedule). A report spec is `reports/<name>.yaml`, validated by core/report/report.schema.json
// (the one source of truth for its YAML shape, docs/reports.md generated from it); this is its
// resolved form with defaults filled in.
import type { PeriodSpec, ComparisonMode, ResolvedPeriod } from '../analytics/period.ts';

export type ReportFormat = 'html' | 'pdf';

export interface ReportQuery {
  /** Name the template reads it by (`{{#each data.top_channels}}`). */
  name: string;
  /** A result table read for the report's period (and, with compare, its comparison period)… */
  table?: 'funnel_results' | 'path_results' | 'attribution_results' | 'roi_results' | 'cx_metrics' | 'journeys' | 'journey_touchpoints' | 'persons';
  /** …filtered by these column = value pairs… */
  where?: Record<string, string | number | boolean>;
  order_by?: string;
  limit?: number;
  /** …or read-only SQL with named parameters bound, never spliced: :period, :period_start, :period_end, :prev_period, plus `params`. */
  sql?: string;
  params?: Record<string, string | number | boolean>;
  /** Caption of its table; `show_table: false` when a query is only charted; `columns` shown (default all but bookkeeping). */
  title?: string;
  show_table?: boolean;
  columns?: string[];
}

export interface ReportChart {
  name: string;
  type: 'bar' | 'line' | 'funnel' | 'sankey' | 'heatmap' | 'pie';
  /** The query whose rows it plots, and the columns. */
  query: string;
  x?: string;
  y?: string | string[];
  series?: string;
  title: string;
  width?: number;
  height?: number;
  /** Axis titles (default: the column names). */
  x_label?: string;
  y_label?: string;
}

export interface ReportSection {
  /** Heading shown in the report. */
  title: string;
  /** A built-in section of the template (`kpis`, `funnel`, `paths`, `pain_points`, …) or a generic table/chart section. */
  kind?: string;
  queries?: ReportQuery[];
  charts?: ReportChart[];
  text?: string;
}

export interface FreshnessChecks {
  /** Each named source (or every source, `*`) had a successful extraction within N hours. */
  sources_refreshed_within_hours?: Record<string, number>;
  /** Events / journeys / spend rows of the period at least this share of the comparison period's (0–1). */
  min_row_ratio?: number;
  /** No failed run of the pipeline since the report was last sent. */
  no_failed_runs_since_last_send?: boolean;
}

export interface ReportDelivery {
  to: string[];
  cc: string[];
  bcc: string[];
  /** Handlebars over { report, period, summary }: e.g. "{{report.title}} — {{period.label}}". */
  subject: string;
  attach_pdf: boolean;
  inline_html: boolean;
  /** Folder (relative to the report file) where every sent report is also kept. */
  archive?: string;
  /** Receives the failure notice when a freshness check fails (instead of the executives). */
  owner?: string;
  /** Recipients outside these domains are refused (all allowed when empty). */
  allowed_domains: string[];
  /** From address (default: TOUCHPOINT_MAIL_FROM or touchpoint@localhost). */
  from?: string;
}

export interface ReportSchedule {
  /** 5- or 6-field cron expression. */
  cron: string;
  /** IANA time zone the cron is read in. */
  timezone: string;
  /** Send occurrences missed while the scheduler was down, up to this many hours back (0 = never). */
  catch_up_hours: number;
  /** Run the report's pipeline before rendering (default true). */
  refresh: boolean;
}

export interface ReportSpec {
  /** Absolute path of the YAML file, and its folder. */
  file: string;
  dir: string;
  name: string;
  title: string;
  description?: string;
  /** Path of the pipeline file (resolved, absolute). */
  pipeline: string;
  /** `cx`, `roi` (built-in templates/<name>.hbs) or a path to a .hbs file (resolved). */
  template: string;
  period: PeriodSpec;
  comparison: ComparisonMode;
  /** `now` | `latest_data` | YYYY-MM-DD: as in analytics.as_of (default: the pipeline's analytics.as_of). */
  as_of?: string;
  sections: ReportSection[];
  formats: ReportFormat[];
  /** BCP 47 locale for numbers and dates (default en-GB). */
  locale: string;
  /** ISO 4217 (default: the pipeline's analytics.reporting_currency). */
  currency: string;
  /** Attribution model the headline figures use (default `markov`? see docs/reports.md). */
  model: string;
  page: { size: 'A4' | 'Letter'; orientation: 'portrait' | 'landscape' };
  branding: { logo?: string; primary_color: string; accent_color: string; company?: string };
  checks: FreshnessChecks;
  delivery?: ReportDelivery;
  schedule?: ReportSchedule;
}

/** What rendering one report for one period produces. */
export interface RenderedReport {
  spec: ReportSpec;
  period: ResolvedPeriod;
  comparison: ResolvedPeriod | null;
  /** The one-line executive summary at the top. */
  summary: string;
  html: string;
  pdf?: Uint8Array;
  /** Files written (absolute paths), when an output folder was given. */
  files: { html?: string; pdf?: string };
  /** Headline numbers (for emails, the freshness gate and tests). */
  kpis: Record<string, number | null>;
  renderMs: number;
}
