// Loads a report file (reports/*.yaml) into the ReportSpec that rendering, delivery and the scheduler
// share: read with positions → validate against report.schema.json (the one source of its shape) →
// checks a schema cannot express (files that must exist, charts naming a query of their section) →
// defaults filled and paths made absolute. Problems come back together as file:line:col errors.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { Diagnostic } from '../config/types.ts';
import { formatPath, type JsonPath } from '../config/diagnostics.ts';
import { loadYamlConfig, type LoadYamlOptions } from '../config/load.ts';
import type { YamlSource } from '../config/yaml.ts';
import { ConfigError } from '../errors.ts';
import type { JsonSchema } from '../sdk/types.ts';
import type { ReportChart, ReportDelivery, ReportFormat, ReportQuery, ReportSchedule, ReportSection, ReportSpec } from './types.ts';

export const REPORT_SCHEMA_FILE = new URL('./report.schema.json', import.meta.url);
export const reportSchema = JSON.parse(readFileSync(REPORT_SCHEMA_FILE, 'utf8')) as JsonSchema;
export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));
export const BUILTIN_TEMPLATES = ['cx', 'roi'] as const;

/** The built-in sections of each template, in their default order, with default headings. */
export const DEFAULT_SECTIONS: Record<string, ReportSection[]> = {
  cx: [
    { title: 'Key figures', kind: 'kpis' },
    { title: 'Journey stages', kind: 'funnel' },
    { title: 'Top paths', kind: 'paths' },
    { title: 'Pain points', kind: 'pain_points' },
    { title: 'Time to convert', kind: 'time_to_convert' },
    { title: 'Satisfaction', kind: 'satisfaction' },
  ],
  roi: [
    { title: 'Key figures', kind: 'kpis' },
    { title: 'Spend and attributed revenue', kind: 'spend_revenue' },
    { title: 'Return on ad spend by channel', kind: 'roas_channel' },
    { title: 'Campaigns', kind: 'roas_campaign' },
    { title: 'Attribution models compared', kind: 'models' },
    { title: 'Where budget would move', kind: 'budget' },
  ],
};

type Raw = Record<string, any>;

export interface LoadReportOptions {
  env?: LoadYamlOptions['env'];
  cwd?: string;
}

/** Reads, validates and resolves one report file; throws ConfigError(s) with file:line:col. */
export function loadReportSpec(file: string, options: LoadReportOptions = {}): ReportSpec {
  const cwd = options.cwd ?? process.cwd();
  const loaded = loadYamlConfig<Raw>(file, reportSchema, { env: options.env, cwd, check: checkReport });
  const v = loaded.value;
  const dir = loaded.dir;
  const pipeline = resolve(dir, v.pipeline);
  const analytics = pipelineAnalytics(pipeline);
  const template = (BUILTIN_TEMPLATES as readonly string[]).includes(v.template) ? v.template : resolve(dir, v.template);
  const builtin = DEFAULT_SECTIONS[template] ?? [];
  const spec: ReportSpec = {
    file: resolve(cwd, file),
    dir,
    name: v.name,
    title: v.title ?? v.name,
    pipeline,
    template,
    period: v.period ?? 'last_month',
    comparison: v.comparison ?? 'previous_period',
    sections: (Array.isArray(v.sections) ? v.sections : builtin).map(section),
    formats: v.formats ?? ['html', 'pdf'],
    locale: v.locale ?? 'en-GB',
    currency: String(v.currency ?? analytics.reporting_currency ?? 'EUR').toUpperCase(),
    model: v.model ?? 'markov',
    page: { size: v.page?.size ?? 'A4', orientation: v.page?.orientation ?? 'portrait' },
    branding: {
      primary_color: v.branding?.primary_color ?? '#1f4e79',
      accent_color: v.branding?.accent_color ?? '#e69138',
      ...(v.branding?.company ? { company: v.branding.company } : {}),
      ...(v.branding?.logo ? { logo: resolve(dir, v.branding.logo) } : {}),
    },
    checks: v.checks ?? {},
  };
  if (v.description) spec.description = v.description;
  const asOf = v.as_of ?? analytics.as_of;
  if (asOf) spec.as_of = String(asOf);
  if (v.delivery) spec.delivery = delivery(v.delivery);
  if (v.schedule) spec.schedule = schedule(v.schedule);
  return spec;
}

function section(s: Raw): ReportSection {
  const out: ReportSection = { title: s.title };
  if (s.kind) out.kind = s.kind;
  if (s.text) out.text = s.text;
  if (s.queries) out.queries = (s.queries as ReportQuery[]).map((q) => ({ ...q }));
  if (s.charts) out.charts = (s.charts as Raw[]).map((c): ReportChart => ({ name: c.name ?? `${c.query}_${c.type}`, ...c }) as ReportChart);
  return out;
}

function delivery(d: Raw): ReportDelivery {
  return {
    to: d.to,
    cc: d.cc ?? [],
    bcc: d.bcc ?? [],
    subject: d.subject ?? '{{report.title}} — {{period.label}}',
    attach_pdf: d.attach_pdf ?? true,
    inline_html: d.inline_html ?? true,
    allowed_domains: (d.allowed_domains ?? []).map((x: string) => x.toLowerCase()),
    ...(d.archive ? { archive: d.archive } : {}),
    ...(d.owner ? { owner: d.owner } : {}),
    ...(d.from ? { from: d.from } : {}),
  };
}

function schedule(s: Raw): ReportSchedule {
  return { cron: s.cron, timezone: s.timezone ?? 'UTC', catch_up_hours: s.catch_up_hours ?? 24, refresh: s.refresh ?? true };
}

/** The pipeline's analytics settings the report defaults from; read without resolving secrets. */
function pipelineAnalytics(file: string): { reporting_currency?: string; as_of?: string } {
  try {
    const doc = parseYaml(readFileSync(file, 'utf8')) as Raw | null;
    const a = doc?.analytics ?? {};
    return { reporting_currency: a.reporting_currency, as_of: a.as_of };
  } catch {
    return {};
  }
}

/** What the schema cannot say: referenced files exist, charts plot a query of their own section, SQL only reads. Tolerates any shape. */
export function checkReport(value: unknown, source: YamlSource): Diagnostic[] {
  const v = (value && typeof value === 'object' ? value : {}) as Raw;
  const dir = dirname(resolve(source.file));
  const out: Diagnostic[] = [];
  const at = (path: JsonPath, message: string, hint: string): void => {
    out.push({ file: source.file, ...source.position(path), path: formatPath(path), message, hint });
  };
  if (typeof v.pipeline === 'string' && !existsSync(resolve(dir, v.pipeline))) {
    at(['pipeline'], `pipeline file "${v.pipeline}" not found (looked at ${resolve(dir, v.pipeline)})`, 'the path is relative to the report file, e.g. ../pipelines/demo.yaml');
  }
  if (typeof v.template === 'string' && !(BUILTIN_TEMPLATES as readonly string[]).includes(v.template) && !existsSync(resolve(dir, v.template))) {
    at(['template'], `template "${v.template}" is neither a built-in template nor an existing file`, `built-in templates: ${BUILTIN_TEMPLATES.join(', ')}; a path is relative to the report file`);
  }
  if (typeof v.branding?.logo === 'string' && !existsSync(resolve(dir, v.branding.logo))) {
    at(['branding', 'logo'], `logo file "${v.branding.logo}" not found`, 'the path is relative to the report file; PNG, JPEG, SVG or WebP');
  }
  const sections = Array.isArray(v.sections) ? v.sections : [];
  sections.forEach((s: Raw, i: number) => {
    const queries = Array.isArray(s?.queries) ? (s.queries as Raw[]) : [];
    const names = new Set(queries.map((q) => q?.name));
    queries.forEach((q, j) => {
      if (q && typeof q === 'object' && (q.table === undefined) === (q.sql === undefined)) {
        at(['sections', i, 'queries', j], q.table === undefined ? 'a query needs `table:` or `sql:`' : 'a query has either `table:` or `sql:`, not both', 'table: reads a result table for the period; sql: runs a read-only SELECT');
      }
      if (typeof q?.sql === 'string' && !/^\s*(\(\s*)*(select|with)\b/i.test(stripComments(q.sql))) {
        at(['sections', i, 'queries', j, 'sql'], 'a report query may only read: it must start with SELECT or WITH', 'reports never change the store; compute new tables in the pipeline instead');
      }
    });
    (Array.isArray(s?.charts) ? (s.charts as Raw[]) : []).forEach((c, j) => {
      if (typeof c?.query === 'string' && !names.has(c.query)) {
        const known = [...names].filter((n) => typeof n === 'string');
        at(['sections', i, 'charts', j, 'query'], `no query named "${c.query}" in this section`, known.length > 0 ? `queries here: ${known.join(', ')}` : 'add it under this section\'s queries:');
      }
    });
  });
  return out;
}

export function stripComments(sqlText: string): string {
  return sqlText.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
}

/**
 * A report by name (`cx` → reports/cx.yaml under cwd) or by path. The name form is what schedules and
 * CI jobs use; a path is for files elsewhere.
 */
export function findReport(nameOrPath: string, cwd = process.cwd()): string {
  if (/\.ya?ml$/i.test(nameOrPath) || nameOrPath.includes('/') || nameOrPath.includes('\\')) {
    const file = isAbsolute(nameOrPath) ? nameOrPath : resolve(cwd, nameOrPath);
    if (!existsSync(file)) throw new ConfigError(`report file "${nameOrPath}" not found`, { hint: 'give a path to a .yaml file, or a report name from reports/' });
    return nameOrPath;
  }
  for (const ext of ['yaml', 'yml']) {
    const candidate = join('reports', `${nameOrPath}.${ext}`);
    if (existsSync(resolve(cwd, candidate))) return candidate;
  }
  const dir = resolve(cwd, 'reports');
  const known = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, '')) : [];
  throw new ConfigError(`no report named "${nameOrPath}" in ${dir}`, {
    hint: known.length > 0 ? `reports here: ${known.join(', ')}` : 'create reports/<name>.yaml (docs/reports.md), or give a path',
  });
}

/**
 * What to render for a delivery: the formats asked for (default: the report's), HTML (the email's
 * body) and the PDF when the email attaches it.
 */
export function deliveryFormats(spec: ReportSpec, asked?: readonly ReportFormat[]): ReportFormat[] {
  const formats = new Set<ReportFormat>(asked ?? spec.formats);
  formats.add('html');
  if (spec.delivery?.attach_pdf) formats.add('pdf');
  return [...formats];
}
