// Renders a report's HTML: one self-contained document (inline CSS, inline SVG charts, the logo as a
// data: URL, no script) from a Handlebars template and the view model built here. Escaping is strict:
// every value reaches the page through `{{…}}`, which escapes it; a template containing a triple-stash
// `{{{…}}}` or `{{&…}}` is refused, so user data cannot be written raw. Only our own CSS and the chart
// SVG (ECharts escapes its labels) are marked safe, in code.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import Handlebars from 'handlebars';
import type { ResolvedPeriod } from '../analytics/period.ts';
import { ConfigError } from '../errors.ts';
import type { TemplateData } from './data.ts';
import { createFormatter, registerFormatHelpers } from './format.ts';
import type { Row } from './query.ts';
import { TEMPLATES_DIR } from './spec.ts';
import type { ReportSection, ReportSpec } from './types.ts';
import { customParts, periodLabel, section, type SectionView, type ViewContext } from './view.ts';
import { cxView } from './view-cx.ts';
import { roiView } from './view-roi.ts';

export interface RenderInput {
  spec: ReportSpec;
  period: ResolvedPeriod;
  comparison: ResolvedPeriod | null;
  data: TemplateData;
  /** Rows of the spec's own queries, by name (`<name>__prev` for the comparison period). */
  queries: Record<string, Row[]>;
  /** The pipeline's name (footer). */
  pipelineName: string;
  now?: Date;
}

export interface RenderedHtml {
  html: string;
  summary: string;
  kpis: Record<string, number | null>;
  /** Titles of the charts drawn (tests, logs). */
  charts: string[];
}

const MIME: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.svg': 'image/svg+xml', '.webp': 'image/webp', '.gif': 'image/gif' };
const COLOR = /^#[0-9A-Fa-f]{6}$/;

/** A logo file as a data: URL (the report must not load anything). */
export function dataUrl(file: string): string {
  const mime = MIME[extname(file).toLowerCase()];
  if (!mime) throw new ConfigError(`logo "${file}" is not a PNG, JPEG, SVG, WebP or GIF file`, { hint: 'branding.logo must be an image file' });
  return `data:${mime};base64,${readFileSync(file).toString('base64')}`;
}

/** Refuses raw output in a template: `{{{x}}}` and `{{&x}}` would write data unescaped. */
export function assertEscaped(source: string, file: string): void {
  const m = /\{\{\{|\{\{~?\s*&/.exec(source);
  if (m) {
    const line = source.slice(0, m.index).split('\n').length;
    throw new ConfigError('templates may not use {{{…}}} or {{&…}}: every value is written escaped', { where: `${file}:${line}:1`, hint: 'write {{value}}; charts and CSS are inserted safely by Touchpoint' });
  }
}

function templateFile(template: string): string {
  return template === 'cx' || template === 'roi' ? join(TEMPLATES_DIR, `${template}.hbs`) : template;
}

let cssCache: string | undefined;

/** A Handlebars environment with the format helpers and every partial of templates/partials. */
function environment(spec: ReportSpec): typeof Handlebars {
  const hb = Handlebars.create();
  registerFormatHelpers(hb, createFormatter(spec.locale, spec.currency));
  const dir = join(TEMPLATES_DIR, 'partials');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.hbs'))) {
    const source = readFileSync(join(dir, f), 'utf8');
    assertEscaped(source, join(dir, f));
    hb.registerPartial(basename(f, '.hbs'), source);
  }
  return hb;
}

export function renderHtml(input: RenderInput): RenderedHtml {
  const { spec, period, comparison, data } = input;
  const fmt = createFormatter(spec.locale, spec.currency);
  const primary = COLOR.test(spec.branding.primary_color) ? spec.branding.primary_color : '#1f4e79';
  const accent = COLOR.test(spec.branding.accent_color) ? spec.branding.accent_color : '#e69138';
  const ctx: ViewContext = { fmt, period, comparison, comparisonMode: spec.comparison, colors: [primary, accent, '#6aa84f', '#8e7cc3', '#c27ba0', '#76a5af', '#a0a0a0'], model: spec.model };
  const custom = (s: ReportSection): Partial<SectionView> => customParts(ctx, s, input.queries);
  const built =
    spec.template === 'cx' ? cxView(ctx, spec.sections, data, custom)
    : spec.template === 'roi' ? roiView(ctx, spec.sections, data, custom)
    : { sections: spec.sections.map((s) => section(s, custom(s))), summary: '', kpis: {} };

  const file = templateFile(spec.template);
  const source = readFileSync(file, 'utf8');
  assertEscaped(source, file);
  const hb = environment(spec);
  const template = hb.compile(source, { strict: false });
  cssCache ??= readFileSync(join(TEMPLATES_DIR, 'report.css'), 'utf8');
  const css = `:root{--primary:${primary};--accent:${accent}}\n${cssCache}`;
  const now = input.now ?? new Date();
  const view = {
    lang: spec.locale.split('-')[0],
    css: new hb.SafeString(css),
    report: { name: spec.name, title: spec.title, description: spec.description },
    period: { key: period.key, label: periodLabel(period, spec.locale), start: period.startDate, end: period.endDate },
    comparison: comparison ? { key: comparison.key, label: periodLabel(comparison, spec.locale) } : null,
    comparisonShort: comparison ? periodLabel(comparison, spec.locale) : '',
    summary: built.summary,
    sections: built.sections.map((s) => ({ ...s, charts: s.charts.map((c) => ({ ...c, svg: new hb.SafeString(c.svg) })) })),
    kpis: built.kpis,
    data: input.queries,
    branding: { company: spec.branding.company, logo: spec.branding.logo ? dataUrl(spec.branding.logo) : undefined },
    model: spec.model,
    moneyCurrency: spec.currency,
    pipeline: input.pipelineName,
    generated: new Intl.DateTimeFormat(spec.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: period.timezone }).format(now),
  };
  const html = template(view);
  return { html, summary: built.summary, kpis: built.kpis, charts: built.sections.flatMap((s) => s.charts.map((c) => c.title)) };
}
