// The cx template's sections: journey KPIs, the stage funnel with its drop-off, the paths people take
// (a Sankey of the flow between channels step by step), pain points (where the funnel loses most
// people, and the CX metrics that flag friction), time to convert, and satisfaction (NPS/CSAT).
import type { TemplateData } from './data.ts';
import { num } from './format.ts';
import type { Row } from './query.ts';
import type { ReportSection } from './types.ts';
import { chart, executiveSummary, kpi, section, table, type SectionView, type ViewContext } from './view.ts';
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
    charts.push(...chart(ctx, { type: 'funnel', title: `${label} — people reaching each step`, items: steps.map((s) => ({ name: title(String(s.step)), value: num(s.entrants) ?? 0 })), height: 60 + steps.length * 44 }));
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

function pathsSection(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const collapsed = data.flows.some((r) => r.collapsed === true) ? data.flows.filter((r) => r.collapsed === true) : data.flows;
  const steps = [...new Set(collapsed.map((r) => Number(r.step ?? 0)))].sort((a, b) => a - b).slice(0, 3);
  // A node per step keeps the Sankey acyclic ("Email" at step 2 and at step 3 are two nodes); the
  // conversion is one node, drawn in the last column. Journeys that stop are left out: they would
  // dwarf every other flow.
  const node = (state: unknown, step: number): string => (state === '(conversion)' ? 'end|Converted' : state === '(null)' ? 'end|Dropped out' : state === '(start)' ? 'start|Start' : `${step}|${String(state)}`);
  const links = collapsed
    .filter((r) => r.from_state !== null && r.to_state !== null && r.to_state !== '(null)' && (num(r.journeys) ?? 0) > 0 && steps.includes(Number(r.step ?? 0)))
    .sort((a, b) => (num(b.journeys) ?? 0) - (num(a.journeys) ?? 0))
    .slice(0, 30)
    .map((r) => ({ source: node(r.from_state, Number(r.step ?? 0)), target: node(r.to_state, Number(r.step ?? 0) + 1), value: num(r.journeys) ?? 0 }))
    .filter((l) => l.source !== l.target && !l.source.startsWith('end|'));
  const paths = (data.paths.some((r) => r.collapsed === true) ? data.paths.filter((r) => r.collapsed === true) : data.paths).slice(0, 10);
  return {
    charts: chart(ctx, { type: 'sankey', title: 'How journeys move between channels over their first steps', links, nodeLabel: (n) => n.slice(n.indexOf('|') + 1), height: 380 }),
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

function satisfaction(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const overall = data.cx.filter((r) => SURVEY.test(String(r.metric)) && r.segment_type === 'all');
  const trend = data.cx.filter((r) => SURVEY.test(String(r.metric)) && r.segment_type !== 'all' && /month|week|date|day/.test(String(r.segment_type)));
  const kpis = overall.map((r) => {
    const prev = data.prevCx.find((p) => p.metric === r.metric);
    return kpi(String(r.metric).toUpperCase().replace(/_/g, ' '), valueByUnit(ctx, r.value, r.unit), r.value, prev?.value, false, `${ctx.fmt.number(r.n)} responses`);
  });
  const metrics = [...new Set(trend.map((r) => String(r.metric)))];
  const xs = [...new Set(trend.map((r) => String(r.segment_value)))].sort();
  return {
    kpis,
    charts: chart(ctx, { type: 'line', title: 'Satisfaction over the period', xLabel: 'Period', yLabel: 'Score', categories: xs, series: metrics.map((m) => ({ name: m.toUpperCase(), values: xs.map((x) => num(trend.find((r) => r.metric === m && String(r.segment_value) === x)?.value)) })), height: 260 }),
  };
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
        kpi('Conversion rate', ctx.fmt.percent(rate), rate, prevRate),
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
    kpis: { journeys: j?.journeys ?? null, conversions: j?.conversions ?? null, conversion_rate: rate, revenue: money.revenue, median_seconds_to_convert: j?.median_seconds_to_convert ?? null, prev_journeys: pj?.journeys ?? null, prev_conversions: pj?.conversions ?? null },
  };
}
