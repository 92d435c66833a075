// The roi template's sections: spend against attributed revenue, return on ad spend by channel and
// campaign under the report's attribution model, how the models disagree (model × channel), and where
// budget would move — channels whose ROAS is far above or below the average, said in words.
import type { TemplateData } from './data.ts';
import { num, relChange } from './format.ts';
import type { Row } from './query.ts';
import type { ReportSection } from './types.ts';
import { chart, executiveSummary, kpi, section, table, type SectionView, type ViewContext } from './view.ts';

export interface MoneyTotals {
  spend: number | null;
  prevSpend: number | null;
  revenue: number | null;
  prevRevenue: number | null;
  conversions: number | null;
  prevConversions: number | null;
}

const sum = (rows: Row[], col: string): number | null => (rows.length === 0 ? null : rows.reduce((n, r) => n + (num(r[col]) ?? 0), 0));

/** The period's money: the roi total row of the model, else the sum of its channel attribution. */
export function moneyTotals(data: TemplateData, model: string): MoneyTotals {
  const total = data.roi.find((r) => r.dimension === 'total');
  if (total) {
    return { spend: num(total.spend), prevSpend: num(total.prev_spend), revenue: num(total.revenue), prevRevenue: num(total.prev_revenue), conversions: num(total.conversions), prevConversions: num(total.prev_conversions) };
  }
  const channels = data.roi.filter((r) => r.dimension === 'channel');
  if (channels.length > 0) {
    return { spend: sum(channels, 'spend'), prevSpend: sum(channels, 'prev_spend'), revenue: sum(channels, 'revenue'), prevRevenue: sum(channels, 'prev_revenue'), conversions: sum(channels, 'conversions'), prevConversions: sum(channels, 'prev_conversions') };
  }
  const attributed = data.attribution.filter((r) => r.model === model);
  const prev = data.prevAttribution.filter((r) => r.model === model);
  return { spend: null, prevSpend: null, revenue: sum(attributed, 'revenue'), prevRevenue: sum(prev, 'revenue'), conversions: sum(attributed, 'conversions'), prevConversions: sum(prev, 'conversions') };
}

/** Each channel's revenue change (absolute), for "driven by …". */
export function revenueDrivers(data: TemplateData, model: string): { name: string; change: number }[] {
  const channels = data.roi.filter((r) => r.dimension === 'channel');
  if (channels.length > 0) return channels.map((r) => ({ name: String(r.label ?? r.key), change: (num(r.revenue) ?? 0) - (num(r.prev_revenue) ?? 0) }));
  const prev = new Map(data.prevAttribution.filter((r) => r.model === model).map((r) => [String(r.key), num(r.revenue) ?? 0]));
  return data.attribution.filter((r) => r.model === model).map((r) => ({ name: String(r.label ?? r.key), change: (num(r.revenue) ?? 0) - (prev.get(String(r.key)) ?? 0) }));
}

const MODEL_LABELS: Record<string, string> = {
  first_touch: 'First touch',
  last_touch: 'Last touch',
  last_non_direct: 'Last non-direct',
  linear: 'Linear',
  time_decay: 'Time decay',
  position_based: 'Position',
  markov: 'Markov',
  shapley: 'Shapley',
};
export const modelLabel = (m: string): string => MODEL_LABELS[m] ?? m;

function kpis(ctx: ViewContext, m: MoneyTotals): SectionView['kpis'] {
  const roas = m.spend ? (m.revenue ?? 0) / m.spend : null;
  const prevRoas = m.prevSpend ? (m.prevRevenue ?? 0) / m.prevSpend : null;
  const cpa = m.conversions ? (m.spend ?? 0) / m.conversions : null;
  const prevCpa = m.prevConversions ? (m.prevSpend ?? 0) / m.prevConversions : null;
  if (m.spend === null && m.revenue === null) return [];
  return [
    kpi('Ad spend', ctx.fmt.currency_(m.spend), m.spend, m.prevSpend, false),
    kpi('Attributed revenue', ctx.fmt.currency_(m.revenue), m.revenue, m.prevRevenue, false, `${modelLabel(ctx.model)} model`),
    kpi('Return on ad spend', ctx.fmt.ratio(roas), roas, prevRoas),
    kpi('Conversions', ctx.fmt.number(m.conversions), m.conversions, m.prevConversions),
    kpi('Cost per conversion', ctx.fmt.currency_(cpa), cpa, prevCpa, true),
  ];
}

function spendRevenue(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const byDate = new Map<string, { spend: number; revenue: number }>();
  for (const r of data.roi.filter((x) => x.dimension === 'date')) {
    const d = String(r.date instanceof Date ? r.date.toISOString() : (r.date ?? r.key)).slice(0, 10);
    const e = byDate.get(d) ?? { spend: 0, revenue: 0 };
    e.spend += num(r.spend) ?? 0;
    e.revenue += num(r.revenue) ?? 0;
    byDate.set(d, e);
  }
  const dates = [...byDate.keys()].sort();
  const channels = data.roi.filter((r) => r.dimension === 'channel').sort((a, b) => (num(b.spend) ?? 0) - (num(a.spend) ?? 0));
  return {
    charts: [
      ...chart(ctx, {
        type: 'bar',
        title: 'Daily ad spend and attributed revenue',
        xLabel: 'Day',
        yLabel: `Spend (${ctx.fmt.currency})`,
        y2Label: `Attributed revenue (${ctx.fmt.currency})`,
        valueKind: 'currency',
        categories: dates.map((d) => ctx.fmt.date(d).replace(/ \d{4}$/, '')),
        series: [
          { name: 'Spend', values: dates.map((d) => byDate.get(d)!.spend), type: 'bar' },
          { name: 'Attributed revenue', values: dates.map((d) => byDate.get(d)!.revenue), type: 'line', axis: 1 },
        ],
      }),
      ...chart(ctx, {
        type: 'bar',
        title: 'Spend and attributed revenue by channel',
        xLabel: 'Channel',
        yLabel: ctx.fmt.currency,
        valueKind: 'currency',
        categories: channels.map((r) => String(r.label ?? r.key)),
        series: [
          { name: 'Spend', values: channels.map((r) => num(r.spend)) },
          { name: 'Attributed revenue', values: channels.map((r) => num(r.revenue)) },
        ],
      }),
    ],
  };
}

function roasChannel(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const rows = data.roi.filter((r) => r.dimension === 'channel').sort((a, b) => (num(b.revenue) ?? 0) - (num(a.revenue) ?? 0));
  const withRoas = rows.filter((r) => num(r.roas) !== null);
  return {
    charts: chart(ctx, {
      type: 'bar',
      horizontal: true,
      title: `Return on ad spend by channel (${modelLabel(ctx.model)})`,
      xLabel: 'Channel',
      yLabel: 'Revenue per unit of spend',
      valueKind: 'ratio',
      categories: withRoas.map((r) => String(r.label ?? r.key)),
      series: [{ name: 'ROAS', values: withRoas.map((r) => num(r.roas)) }],
      height: Math.max(200, 60 + withRoas.length * 30),
    }),
    tables: [table(ctx, rows.map((r) => ({ ...r, channel: r.label ?? r.key })), ['channel', 'spend', 'revenue', 'roas', 'roas_change', 'conversions', 'cpa'])],
  };
}

function roasCampaign(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const rows = data.roi
    .filter((r) => r.dimension === 'campaign')
    .sort((a, b) => (num(b.spend) ?? 0) - (num(a.spend) ?? 0) || (num(b.revenue) ?? 0) - (num(a.revenue) ?? 0))
    .slice(0, 15)
    .map((r) => ({ ...r, campaign: r.label ?? r.key }));
  const t = table(ctx, rows, ['campaign', 'channel', 'spend', 'revenue', 'roas', 'conversions', 'cpa'], 'The 15 campaigns with the most spend');
  return { tables: [t] };
}

function models(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const modelsSeen = [...new Set(data.attribution.map((r) => String(r.model)))];
  const channels = [...new Set(data.attribution.map((r) => String(r.label ?? r.key)))];
  const byModel = new Map(modelsSeen.map((m) => [m, sum(data.attribution.filter((r) => r.model === m), 'revenue') ?? 0]));
  const cells: [number, number, number | null][] = data.attribution.map((r) => {
    const total = byModel.get(String(r.model)) ?? 0;
    return [modelsSeen.indexOf(String(r.model)), channels.indexOf(String(r.label ?? r.key)), num(r.revenue_share) ?? (total ? (num(r.revenue) ?? 0) / total : null)];
  });
  const pivot = channels.map((ch) => {
    const row: Row = { channel: ch };
    for (const m of modelsSeen) row[m] = data.attribution.find((r) => r.model === m && String(r.label ?? r.key) === ch)?.revenue ?? null;
    return row;
  });
  const t = table(ctx, pivot, ['channel', ...modelsSeen], 'Attributed revenue by channel under each model');
  t.wide = true;
  t.columns = [{ label: 'Channel', num: false }, ...modelsSeen.map((m) => ({ label: modelLabel(m), num: true }))];
  t.rows = pivot.map((r) => [{ text: String(r.channel) }, ...modelsSeen.map((m) => ({ text: ctx.fmt.currency_(r[m]), num: true }))]);
  return {
    charts: chart(ctx, { type: 'heatmap', title: 'Share of revenue credited to each channel, by model', xLabel: 'Attribution model', yLabel: 'Channel', categories: modelsSeen.map(modelLabel), yCategories: channels, cells, valueKind: 'percent', height: Math.max(260, 130 + channels.length * 26) }),
    tables: modelsSeen.length > 0 ? [t] : [],
  };
}

/** Channels whose ROAS is far from the average, in words: the case for moving budget. */
export function budgetFindings(ctx: ViewContext, data: TemplateData, m: MoneyTotals): string[] {
  const channels = data.roi.filter((r) => r.dimension === 'channel' && (num(r.spend) ?? 0) > 0);
  const paidSpend = channels.reduce((n, r) => n + (num(r.spend) ?? 0), 0);
  if (!m.spend || channels.length < 2 || paidSpend === 0) return [];
  // The average of the channels that cost money: unpaid channels' revenue would inflate it.
  const average = channels.reduce((n, r) => n + (num(r.revenue) ?? 0), 0) / paidSpend;
  const out: string[] = [];
  const per = (v: number) => `${ctx.fmt.currency_(v)} per ${ctx.fmt.currency_(1).replace(/[.,]00$/, '')} spent`;
  const ranked = channels.map((r) => ({ name: String(r.label ?? r.key), roas: num(r.roas) ?? (num(r.revenue) ?? 0) / (num(r.spend) ?? 1), spend: num(r.spend) ?? 0 })).sort((a, b) => b.roas - a.roas);
  for (const c of ranked.filter((x) => average > 0 && x.roas >= average * 1.5)) {
    out.push(`${c.name} returns ${per(c.roas)}, ${ctx.fmt.number(c.roas / average, 1)}× the paid-channel average of ${ctx.fmt.currency_(average)}: under the ${modelLabel(ctx.model)} model it is the strongest case for more budget.`);
  }
  for (const c of ranked.filter((x) => x.roas <= average * 0.5).toReversed()) {
    out.push(`${c.name} returns only ${per(c.roas)} on ${ctx.fmt.currency_(c.spend)} of spend, ${c.roas === 0 ? 'nothing' : `${ctx.fmt.percent(c.roas / average, 0)} of the paid-channel average`}: the first place to look for savings.`);
  }
  if (out.length === 0) out.push(`Every paid channel returns between half and one and a half times the paid-channel average of ${per(average)}: no channel stands out for moving budget.`);
  return out;
}

export function roiView(ctx: ViewContext, sections: ReportSection[], data: TemplateData, custom: (s: ReportSection) => Partial<SectionView>): { sections: SectionView[]; summary: string; kpis: Record<string, number | null> } {
  const m = moneyTotals(data, ctx.model);
  const roas = m.spend ? (m.revenue ?? 0) / m.spend : null;
  const views = sections.map((s) => {
    const own = custom(s);
    const built: Partial<SectionView> =
      s.kind === 'kpis' ? { kpis: kpis(ctx, m) }
      : s.kind === 'spend_revenue' ? spendRevenue(ctx, data)
      : s.kind === 'roas_channel' ? roasChannel(ctx, data)
      : s.kind === 'roas_campaign' ? roasCampaign(ctx, data)
      : s.kind === 'models' ? models(ctx, data)
      : s.kind === 'budget' ? { findings: budgetFindings(ctx, data, m) }
      : {};
    return section(s, { ...built, charts: [...(built.charts ?? []), ...(own.charts ?? [])], tables: [...(built.tables ?? []), ...(own.tables ?? [])] });
  });
  const extra = roas !== null ? ` (return on ad spend ${ctx.fmt.ratio(roas)}${relChange(roas, m.prevSpend ? (m.prevRevenue ?? 0) / m.prevSpend : null) !== null ? `, was ${ctx.fmt.ratio((m.prevRevenue ?? 0) / (m.prevSpend ?? 1))}` : ''})` : '';
  const summary = executiveSummary(ctx, [{ metric: 'Attributed revenue', current: m.revenue, previous: m.prevRevenue, money: true }, { metric: 'Ad spend', current: m.spend, previous: m.prevSpend, money: true }], revenueDrivers(data, ctx.model), extra);
  return { sections: views, summary, kpis: { spend: m.spend, revenue: m.revenue, roas, conversions: m.conversions, prev_spend: m.prevSpend, prev_revenue: m.prevRevenue } };
}
