// The cx template's sections: journey KPIs, the stage funnel with its drop-off, the paths people take
// (a Sankey of the flow between channels step by step), pain points (where the funnel loses most
// people, and the CX metrics that flag friction), time to convert, and satisfaction (NPS/CSAT).
import type { TemplateData } from './data.ts';
import { num } from './format.ts';
import type { Row } from './query.ts';
import type { ReportSection } from './types.ts';
import { chart, executiveSummary, kpi, pointsKpi, section, table, tidy, type SectionView, type ViewContext } from './view.ts';
import { moneyTotals, revenueDrivers } from './view-roi.ts';

const SURVEY = /(^|_)(nps|csat)(_|$)/i;

/** The stage funnel (`stages`), else the first funnel there is. */
function mainFunnel(rows: Row[]): { name: string; steps: Row[] } | null {
  const names = [...new Set(rows.map((r) => String(r.funnel)))];
  const name = names.includes('stages') ? 'stages' : names[0];
  return name === undefined ? null : { name, steps: rows.filter((r) => r.funnel === name).sort((a, b) => Number(a.step_number) - Number(b.step_number)) };
}

const title = (s: string) => s.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

function funnelSection(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const names = [...new Set(data.funnels.map((r) => String(r.funnel)))].sort((a, b) => (a === 'stages' ? -1 : b === 'stages' ? 1 : a.localeCompare(b)));
  const charts: SectionView['charts'] = [];
  const tables: SectionView['tables'] = [];
  for (const name of names.slice(0, 3)) {
    const steps = data.funnels.filter((r) => r.funnel === name).sort((a, b) => Number(a.step_number) - Number(b.step_number));
    const label = name === 'stages' ? 'Journey stages' : `Funnel: ${title(name)}`;
    // Two funnels or more sit side by side on paper: half-width charts drawn at half the width keep their type size.
    const half = names.length > 1;
    charts.push(...chart(ctx, { type: 'funnel', title: `${label}: people reaching each step`, items: steps.map((s) => ({ name: title(String(s.step)), value: num(s.entrants) ?? 0 })), width: half ? 360 : 720, height: 50 + Math.max(...names.slice(0, 3).map((n) => data.funnels.filter((r) => r.funnel === n).length)) * 40 }, half));
    tables.push(table(ctx, steps.map((s) => ({ ...s, step: title(String(s.step)) })), ['step', 'entrants', 'overall_rate', 'drop_off', 'drop_off_rate', 'median_seconds_to_next'], label));
    const last = tables.at(-1)!;
    last.columns = ['Step', 'Reached', 'Of first step', 'Lost before next', 'Drop-off', 'Median time to next'].map((l, i) => ({ label: l, num: i > 0 }));
  }
  return { charts, tables };
}

/** Where people are lost: the funnel steps with the highest drop-off, and friction metrics. */
function painPoints(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const findings: string[] = [];
  const f = mainFunnel(data.funnels);
  if (f) {
    const worst = f.steps
      .slice(0, -1)
      .filter((s) => num(s.drop_off_rate) !== null && (num(s.entrants) ?? 0) > 0)
      .sort((a, b) => (num(b.drop_off_rate) ?? 0) - (num(a.drop_off_rate) ?? 0))
      .slice(0, 3);
    for (const s of worst) {
      const next = f.steps.find((x) => Number(x.step_number) === Number(s.step_number) + 1);
      findings.push(`${ctx.fmt.percent(s.drop_off_rate, 0)} of the ${ctx.fmt.number(s.entrants)} people who reached ${title(String(s.step))} did not go on to ${next ? title(String(next.step)) : 'the next step'} (${ctx.fmt.number(s.drop_off)} lost).`);
    }
  }
  const friction = data.cx.filter((r) => r.segment_type !== 'all' && !SURVEY.test(String(r.metric))).sort((a, b) => String(a.metric).localeCompare(String(b.metric)) || (num(b.value) ?? 0) - (num(a.value) ?? 0));
  const top = friction.slice(0, 12).map((r) => ({ metric: title(String(r.metric)), segment_type: title(String(r.segment_type ?? '')), segment_value: r.segment_value, value: r.value, n: r.n, unit: r.unit }));
  const t = table(ctx, top, ['metric', 'segment_type', 'segment_value', 'value', 'n'], 'CX metrics by breakdown');
  t.rows = top.map((r) => [{ text: r.metric }, { text: r.segment_type }, { text: String(r.segment_value ?? '') }, { text: valueByUnit(ctx, r.value, r.unit), num: true }, { text: ctx.fmt.number(r.n), num: true }]);
  return { findings, tables: top.length > 0 ? [t] : [] };
}

function valueByUnit(ctx: ViewContext, v: unknown, unit: unknown): string {
  return unit === 'ratio' ? ctx.fmt.percent(v) : unit === 'percent' ? ctx.fmt.percent((num(v) ?? 0) / 100) : unit === 'seconds' ? ctx.fmt.duration(v) : ctx.fmt.number(v, unit === 'score' ? 1 : undefined);
}

const STEPS = 3;
const TOP_CHANNELS = 6;
const ORDINAL = ['First', 'Second', 'Third', 'Fourth', 'Fifth', 'Sixth'];

/**
 * The flow between channels over the first STEPS steps, as Sankey links: a column per touch (a node
 * per step keeps the graph acyclic: "Email" at step 2 and at step 3 are two nodes), the six busiest
 * channels by name and the rest as "Other" — more nodes per column leave no room for their labels —
 * and "Converted" in the column after the touch that converted. Journeys that stop are left out:
 * they would dwarf every other flow.
 */
export function sankeyFlows(flows: Row[]): { links: { source: string; target: string; value: number }[]; nodes: string[]; channels: string[] } {
  const rows = (flows.some((r) => r.collapsed === true) ? flows.filter((r) => r.collapsed === true) : flows).filter((r) => {
    const step = Number(r.step ?? 0);
    return step >= 1 && step <= STEPS && r.from_state !== null && r.to_state !== null && r.to_state !== '(null)' && r.from_state !== '(start)' && (num(r.journeys) ?? 0) > 0;
  });
  const volume = new Map<string, number>();
  for (const r of rows) for (const state of [r.from_state, r.to_state]) if (state !== '(conversion)') volume.set(String(state), (volume.get(String(state)) ?? 0) + (num(r.journeys) ?? 0));
  const ranked = [...volume.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name]) => name);
  // "Other" only when it stands for two channels or more: otherwise the seventh channel keeps its name.
  const kept = new Set(ranked.length <= TOP_CHANNELS + 1 ? ranked : ranked.slice(0, TOP_CHANNELS));
  const name = (state: unknown, column: number) => `${column}|${state === '(conversion)' ? 'Converted' : kept.has(String(state)) ? String(state) : 'Other'}`;
  const sums = new Map<string, number>();
  for (const r of rows) {
    const step = Number(r.step);
    const key = `${name(r.from_state, step - 1)}\u0000${name(r.to_state, step)}`;
    sums.set(key, (sums.get(key) ?? 0) + (num(r.journeys) ?? 0));
  }
  const links = [...sums.entries()].map(([key, value]) => {
    const [source, target] = key.split('\u0000');
    return { source, target, value };
  });
  const order = (n: string) => {
    const label = n.slice(n.indexOf('|') + 1);
    return label === 'Converted' ? 1e6 : label === 'Other' ? 1e5 : ranked.indexOf(label);
  };
  // The busiest channels on top in every column, "Other" and "Converted" at the bottom.
  const depth = (n: string) => Number(n.slice(0, n.indexOf('|')));
  const nodes = [...new Set(links.flatMap((l) => [l.source, l.target]))].sort((a, b) => depth(a) - depth(b) || order(a) - order(b));
  return { links, nodes, channels: ranked.filter((c) => kept.has(c)) };
}

function pathsSection(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const { links, nodes, channels } = sankeyFlows(data.flows);
  const depth = (n: string) => Number(n.slice(0, n.indexOf('|')));
  const columns = Math.max(0, ...links.map((l) => depth(l.target))) + 1;
  const nodeColors: Record<string, string> = { Converted: '#2e7d32', Other: '#a0a0a0' };
  channels.forEach((c, i) => (nodeColors[c] ??= ctx.colors[i % (ctx.colors.length - 1)]));
  const paths = (data.paths.some((r) => r.collapsed === true) ? data.paths.filter((r) => r.collapsed === true) : data.paths).slice(0, 10);
  const findings = links.length > 0 ? [`Each column is a journey’s first, second, third… touch; the ${channels.length} busiest channels are named, the rest grouped as Other. Journeys that stop after a touch are not drawn.`] : [];
  return {
    findings,
    charts: chart(ctx, {
      type: 'sankey',
      title: `How journeys move between channels over their first ${STEPS + 1} touches`,
      links,
      nodeLabel: (n) => n.slice(n.indexOf('|') + 1),
      nodeDepth: depth,
      nodes,
      nodeColors,
      columns: Array.from({ length: columns }, (_, i) => `${ORDINAL[i] ?? `${i + 1}th`} touch`),
      height: 440,
    }),
    tables: paths.length > 0 ? [table(ctx, paths, ['rank', 'path', 'journeys', 'conversions', 'revenue', 'share'], 'Top converting paths')] : [],
  };
}

function timeSection(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const total = data.timeToConvert.reduce((n, r) => n + Number(r.journeys), 0);
  const median = data.journeys?.median_seconds_to_convert ?? null;
  return {
    findings: median === null ? [] : [`Half of the journeys that converted did so within ${ctx.fmt.duration(median)} of their first touch.`],
    charts: chart(ctx, { type: 'bar', title: 'Converting journeys by time from first touch to conversion', xLabel: 'Time to convert', yLabel: 'Journeys', categories: data.timeToConvert.map((r) => String(r.label)), series: [{ name: 'Journeys', values: data.timeToConvert.map((r) => Number(r.journeys)) }], height: 280 }),
    tables: total > 0 ? [table(ctx, data.timeToConvert.map((r) => ({ time_to_convert: r.label, journeys: r.journeys, share: Number(r.journeys) / total })), ['time_to_convert', 'journeys', 'share'])] : [],
  };
}

const monthName = (ym: string, locale: string) => new Intl.DateTimeFormat(locale, { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${ym}-01T00:00:00Z`));

/** A survey KPI: NPS and its shares in points, CSAT as the share satisfied (changes in points). */
function surveyKpis(ctx: ViewContext, data: TemplateData): SectionView['kpis'] {
  const now = (m: string) => data.cx.find((r) => r.metric === m && r.segment_type === 'all');
  const prev = (m: string) => data.prevCx.find((r) => r.metric === m);
  const responses = (m: string) => `${ctx.fmt.number(now(m)?.n)} responses`;
  const out: SectionView['kpis'] = [];
  // Shares come as ratios (0–1: ×100 makes points) or percentages (0–100: already points).
  const scale = (r: Row) => (r.unit === 'ratio' ? 100 : 1);
  const nps = now('nps');
  if (nps) out.push(pointsKpi('NPS', ctx.fmt.number(nps.value, 1), nps.value, prev('nps')?.value, 1, false, `Net Promoter Score (−100 to +100), ${responses('nps')}`));
  const promoters = now('nps_promoters');
  if (promoters) out.push(pointsKpi('Promoters (9–10)', valueByUnit(ctx, promoters.value, promoters.unit), promoters.value, prev('nps_promoters')?.value, scale(promoters)));
  const detractors = now('nps_detractors');
  if (detractors) out.push(pointsKpi('Detractors (0–6)', valueByUnit(ctx, detractors.value, detractors.unit), detractors.value, prev('nps_detractors')?.value, scale(detractors), true));
  const csat = now('csat');
  if (csat) out.push(pointsKpi('CSAT: satisfied', valueByUnit(ctx, csat.value, csat.unit), csat.value, prev('csat')?.value, scale(csat), false, `top two answers, ${responses('csat')}`));
  const mean = now('csat_mean');
  if (mean) out.push(kpi('Average rating', ctx.fmt.number(mean.value, 1), mean.value, prev('csat_mean')?.value, false, 'mean answer'));
  return out;
}

function satisfaction(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const trend = data.cxTrend ?? [];
  const months = [...new Set(trend.map((r) => String(r.segment_value)))].sort();
  const at = (m: string, month: string) => trend.find((r) => r.metric === m && String(r.segment_value) === month);
  const categories = months.map((m) => monthName(m, ctx.fmt.locale));
  const csatShare = (r: Row | undefined) => (r ? (r.unit === 'percent' ? (num(r.value) ?? 0) / 100 : num(r.value)) : null);
  const answers = months.map((m) => num(at('nps', m)?.n) ?? num(at('csat', m)?.n) ?? 0);
  const findings: string[] = [];
  if (months.length >= 2) {
    const few = Math.min(...answers);
    findings.push(`Monthly scores from ${monthName(months[0], ctx.fmt.locale)} to ${monthName(months.at(-1)!, ctx.fmt.locale)}, from ${ctx.fmt.number(few)} to ${ctx.fmt.number(Math.max(...answers))} survey answers a month${few < 30 ? ': with fewer than 30 answers, a month’s score can move by 10 points or more by chance' : ''}.`);
  }
  const charts = months.length >= 2
    ? [
        ...chart(ctx, { type: 'line', title: 'Net Promoter Score by month', xLabel: 'Month', yLabel: 'NPS (points)', categories, yMin: -100, yMax: 100, showValues: true, series: [{ name: 'NPS', values: months.map((m) => num(at('nps', m)?.value)) }], width: 360, height: 250 }, true),
        ...chart(ctx, { type: 'line', title: 'CSAT by month: share satisfied', xLabel: 'Month', yLabel: 'Satisfied (top two answers)', valueKind: 'percent', categories, yMin: 0, yMax: 1, showValues: true, series: [{ name: 'CSAT', values: months.map((m) => csatShare(at('csat', m))) }], width: 360, height: 250, colors: [ctx.colors[1]] }, true),
      ]
    : [];
  return { kpis: surveyKpis(ctx, data), findings, charts };
}

/** NPS and CSAT (share satisfied, 0–1) of the period and its comparison, when there were answers. */
function survey(data: TemplateData): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const m of ['nps', 'csat']) {
    const r = data.cx.find((x) => x.metric === m && x.segment_type === 'all');
    if (!r) continue;
    const p = data.prevCx.find((x) => x.metric === m);
    const scale = r.unit === 'percent' ? 100 : 1;
    out[m] = (num(r.value) ?? 0) / scale;
    out[`prev_${m}`] = p ? (num(p.value) ?? 0) / scale : null;
  }
  return out;
}

export function cxView(ctx: ViewContext, sections: ReportSection[], data: TemplateData, custom: (s: ReportSection) => Partial<SectionView>): { sections: SectionView[]; summary: string; kpis: Record<string, number | null> } {
  const j = data.journeys;
  const pj = data.prevJourneys;
  const money = moneyTotals(data, ctx.model);
  const rate = j && j.journeys > 0 ? j.conversions / j.journeys : null;
  const prevRate = pj && pj.journeys > 0 ? pj.conversions / pj.journeys : null;
  const kpis = j && j.journeys > 0
    ? [
        kpi('Journeys', ctx.fmt.number(j.journeys), j.journeys, pj?.journeys),
        kpi('Conversions', ctx.fmt.number(j.conversions), j.conversions, pj?.conversions),
        pointsKpi('Conversion rate', ctx.fmt.percent(rate), rate, prevRate, 100),
        kpi('Revenue', ctx.fmt.currency_(money.revenue), money.revenue, money.prevRevenue),
        kpi('Median time to convert', ctx.fmt.duration(j.median_seconds_to_convert), j.median_seconds_to_convert, pj?.median_seconds_to_convert, true),
      ]
    : [];
  const views = sections.map((s) => {
    const own = custom(s);
    const built: Partial<SectionView> =
      s.kind === 'kpis' ? { kpis }
      : s.kind === 'funnel' ? funnelSection(ctx, data)
      : s.kind === 'paths' ? pathsSection(ctx, data)
      : s.kind === 'pain_points' ? painPoints(ctx, data)
      : s.kind === 'time_to_convert' ? timeSection(ctx, data)
      : s.kind === 'satisfaction' ? satisfaction(ctx, data)
      : {};
    return section(s, { ...built, charts: [...(built.charts ?? []), ...(own.charts ?? [])], tables: [...(built.tables ?? []), ...(own.tables ?? [])] });
  });
  const summary = executiveSummary(
    ctx,
    [
      { metric: 'Revenue', current: money.revenue, previous: money.prevRevenue, money: true },
      { metric: 'Conversions', current: j?.conversions ?? null, previous: pj?.conversions ?? null, money: false },
      { metric: 'Journeys', current: j?.journeys ?? null, previous: pj?.journeys ?? null, money: false },
    ],
    money.revenue !== null ? revenueDrivers(data, ctx.model) : [],
  );
  return {
    sections: views,
    summary,
    kpis: tidy({
      journeys: j?.journeys ?? null,
      conversions: j?.conversions ?? null,
      conversion_rate: rate,
      revenue: money.revenue,
      median_seconds_to_convert: j?.median_seconds_to_convert ?? null,
      ...survey(data),
      prev_journeys: pj?.journeys ?? null,
      prev_conversions: pj?.conversions ?? null,
      prev_conversion_rate: prevRate,
      prev_revenue: money.prevRevenue,
      prev_median_seconds_to_convert: pj?.median_seconds_to_convert ?? null,
    }),
  };
}
