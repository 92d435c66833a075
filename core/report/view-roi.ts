// The roi template's sections: spend against attributed revenue, return on ad spend by channel and
// campaign under the report's attribution model, how the models disagree (model × channel), and where
// budget would move — channels whose ROAS is far above or below the average, said in words.
import type { TemplateData } from './data.ts';
import { num, relChange } from './format.ts';
import type { Row } from './query.ts';
import type { ReportSection } from './types.ts';
import { chart, executiveSummary, kpi, moneyDigits, section, table, tidy, type CellView, type SectionView, type ViewContext } from './view.ts';

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

/** Attributed revenue of the channels with spend over their spend (null without paid channels). */
function paidRoas(data: TemplateData): number | null {
  const paid = data.roi.filter((r) => r.dimension === 'channel' && (num(r.spend) ?? 0) > 0);
  const spend = sum(paid, 'spend');
  return spend ? (sum(paid, 'revenue') ?? 0) / spend : null;
}

function kpis(ctx: ViewContext, m: MoneyTotals, paid: number | null): SectionView['kpis'] {
  const roas = m.spend ? (m.revenue ?? 0) / m.spend : null;
  const prevRoas = m.prevSpend ? (m.prevRevenue ?? 0) / m.prevSpend : null;
  const cpa = m.conversions ? (m.spend ?? 0) / m.conversions : null;
  const prevCpa = m.prevConversions ? (m.prevSpend ?? 0) / m.prevConversions : null;
  if (m.spend === null && m.revenue === null) return [];
  return [
    kpi('Ad spend', ctx.fmt.currency_(m.spend), m.spend, m.prevSpend, false),
    kpi('Attributed revenue', ctx.fmt.currency_(m.revenue), m.revenue, m.prevRevenue, false, `${modelLabel(ctx.model)} model`),
    kpi('Return on ad spend', ctx.fmt.ratio(roas), roas, prevRoas, false, paid === null ? undefined : `all attributed revenue; paid channels ${ctx.fmt.ratio(paid)}`),
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
        height: 280,
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
        height: 280,
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
    tables: [channelTable(ctx, rows)],
  };
}

/** Channels with their money; a channel without spend shows a dash for ROAS, its change and CPA (there is nothing to return on). */
function channelTable(ctx: ViewContext, rows: Row[]): SectionView['tables'][number] {
  const t = table(ctx, rows.map((r) => ({ ...r, channel: r.label ?? r.key })), ['channel', 'spend', 'revenue', 'roas', 'roas_change', 'conversions', 'cpa']);
  const dash: CellView = { text: '–', num: true };
  t.rows = t.rows.map((cells, i) => ((num(rows[i].spend) ?? 0) > 0 ? cells : cells.map((c, j) => ([3, 4, 6].includes(j) ? dash : j === 1 ? { ...c, text: '–' } : c))));
  t.note = 'Channels without ad spend (–) bring attributed revenue but have no return on spend to compare.';
  return t;
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

const MODEL_ORDER = ['first_touch', 'last_touch', 'last_non_direct', 'linear', 'time_decay', 'position_based', 'markov', 'shapley'];

function models(ctx: ViewContext, data: TemplateData): Partial<SectionView> {
  const rank = (m: string) => (MODEL_ORDER.includes(m) ? MODEL_ORDER.indexOf(m) : MODEL_ORDER.length);
  // Rule-based models first, data-driven ones last; channels by the report model's revenue, largest on top.
  const modelsSeen = [...new Set(data.attribution.map((r) => String(r.model)))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const revenueOf = (ch: string, m: string) => num(data.attribution.find((r) => r.model === m && String(r.label ?? r.key) === ch)?.revenue);
  const channels = [...new Set(data.attribution.map((r) => String(r.label ?? r.key)))].sort((a, b) => (revenueOf(b, ctx.model) ?? -1) - (revenueOf(a, ctx.model) ?? -1) || a.localeCompare(b));
  const byModel = new Map(modelsSeen.map((m) => [m, sum(data.attribution.filter((r) => r.model === m), 'revenue') ?? 0]));
  const cells: [number, number, number | null][] = data.attribution.map((r) => {
    const total = byModel.get(String(r.model)) ?? 0;
    return [modelsSeen.indexOf(String(r.model)), channels.indexOf(String(r.label ?? r.key)), num(r.revenue_share) ?? (total ? (num(r.revenue) ?? 0) / total : null)];
  });
  const label = (m: string) => (m === ctx.model ? `${modelLabel(m)} (used)` : modelLabel(m));
  const digits = moneyDigits(data.attribution.map((r) => r.revenue));
  const t = table(ctx, [], [], 'Attributed revenue by channel under each model');
  t.wide = true;
  t.columns = [{ label: 'Channel', num: false }, ...modelsSeen.map((m) => ({ label: label(m), num: true }))];
  t.rows = channels.map((ch) => [{ text: ch }, ...modelsSeen.map((m) => ({ text: revenueOf(ch, m) === null ? '–' : ctx.fmt.currency_(revenueOf(ch, m), digits), num: true }))]);
  return {
    charts: chart(ctx, { type: 'heatmap', title: 'Share of revenue credited to each channel, by model', xLabel: 'Attribution model', yLabel: 'Channel', categories: modelsSeen.map(label), yCategories: channels, cells, valueKind: 'percent', height: Math.max(260, 130 + channels.length * 26) }),
    tables: modelsSeen.length > 0 ? [t] : [],
  };
}

/** How many of the attribution models put a channel on the same side of the paid-channel average. */
function agreement(data: TemplateData, channel: string, spend: Map<string, number>, above: boolean): { agree: number; of: number } {
  const paidSpend = [...spend.values()].reduce((n, v) => n + v, 0);
  const modelsSeen = [...new Set(data.attribution.map((r) => String(r.model)))];
  let agree = 0;
  for (const m of modelsSeen) {
    const rows = data.attribution.filter((r) => r.model === m && spend.has(String(r.label ?? r.key)));
    const average = rows.reduce((n, r) => n + (num(r.revenue) ?? 0), 0) / paidSpend;
    const own = (num(rows.find((r) => String(r.label ?? r.key) === channel)?.revenue) ?? 0) / (spend.get(channel) ?? 1);
    if (above ? own > average : own < average) agree += 1;
  }
  return { agree, of: modelsSeen.length };
}

/**
 * Where budget would move, in words, under the report's model: the paid-channel average, channels far
 * above it (the case for more budget) or far below (savings), the biggest budget when it returns less
 * than average, and a caution for a high return on a sliver of spend. A channel's standing is checked
 * against the other attribution models: a case only one model makes is weaker.
 */
export function budgetFindings(ctx: ViewContext, data: TemplateData, m: MoneyTotals): string[] {
  const channels = data.roi.filter((r) => r.dimension === 'channel' && (num(r.spend) ?? 0) > 0);
  const paidSpend = channels.reduce((n, r) => n + (num(r.spend) ?? 0), 0);
  if (!m.spend || channels.length < 2 || paidSpend === 0) return [];
  const model = modelLabel(ctx.model);
  // The average of the channels that cost money: unpaid channels' revenue would inflate it.
  const paidRevenue = channels.reduce((n, r) => n + (num(r.revenue) ?? 0), 0);
  const average = paidRevenue / paidSpend;
  const per = (v: number) => `${ctx.fmt.currency_(v, 2)} per ${ctx.fmt.currency_(1, 0)}`;
  const ranked = channels
    .map((r) => {
      const spend = num(r.spend) ?? 0;
      const roas = num(r.roas) ?? (num(r.revenue) ?? 0) / spend;
      return { name: String(r.label ?? r.key), roas, spend, share: spend / paidSpend, vs: average > 0 ? roas / average : 0 };
    })
    .sort((a, b) => b.roas - a.roas);
  const spendOf = new Map(ranked.map((c) => [c.name, c.spend]));
  const agreeing = (name: string, above: boolean) => {
    const { agree, of } = agreement(data, name, spendOf, above);
    return of > 1 ? ` ${agree} of the ${of} attribution models agree it is ${above ? 'above' : 'below'} average.` : '';
  };
  // Under 5% of the paid budget a channel's return rests on too few conversions to move money on.
  const SLIVER = 0.05;
  const spentOn = (c: (typeof ranked)[number]) => `${ctx.fmt.currency_(c.spend, c.spend >= 100 ? 0 : 2)} of spend (${ctx.fmt.percent(c.share, 0)} of the paid budget)`;
  const out = [`Under the ${model} model, paid channels returned ${per(average)} of ad spend on average (${ctx.fmt.currency_(paidRevenue)} of attributed revenue on ${ctx.fmt.currency_(paidSpend)}).`];
  const strong = ranked.filter((c) => c.vs >= 1.5 && c.share >= SLIVER);
  for (const c of strong) out.push(`${c.name} returns ${per(c.roas)} on ${spentOn(c)}, ${ctx.fmt.number(c.vs, 1)}× the average: the strongest case for more budget.${agreeing(c.name, true)}`);
  const weak = ranked.filter((c) => c.vs <= 0.5 && c.share >= SLIVER).toReversed();
  for (const c of weak) out.push(`${c.name} returns only ${per(c.roas)} on ${spentOn(c)}, ${c.roas === 0 ? 'nothing back' : `${ctx.fmt.percent(c.vs, 0)} of the average`}: the first place to look for savings.${agreeing(c.name, false)}`);
  const biggest = ranked.toSorted((a, b) => b.spend - a.spend)[0];
  if (biggest.share >= 0.4 && biggest.vs < 0.9 && biggest.vs > 0.5) {
    const to = strong[0] ? `: shifting part of it towards ${strong[0].name} is where the ${model} model points` : '';
    out.push(`${biggest.name} takes ${ctx.fmt.percent(biggest.share, 0)} of the paid budget (${ctx.fmt.currency_(biggest.spend)}) and returns ${per(biggest.roas)}, below the average${to}.`);
  }
  for (const c of ranked.filter((x) => x.share < SLIVER && (x.vs >= 1.5 || x.vs <= 0.5))) {
    out.push(`${c.name}’s ${per(c.roas)} rests on only ${spentOn(c)}: too little to move budget on; ${c.vs >= 1.5 ? 'a small test budget would show whether it holds' : 'worth watching rather than cutting yet'}.`);
  }
  if (out.length === 1) out.push(`Every paid channel returns between half and one and a half times the average: no channel stands out for moving budget.`);
  return out;
}

export function roiView(ctx: ViewContext, sections: ReportSection[], data: TemplateData, custom: (s: ReportSection) => Partial<SectionView>): { sections: SectionView[]; summary: string; kpis: Record<string, number | null> } {
  const m = moneyTotals(data, ctx.model);
  const roas = m.spend ? (m.revenue ?? 0) / m.spend : null;
  const views = sections.map((s) => {
    const own = custom(s);
    const built: Partial<SectionView> =
      s.kind === 'kpis' ? { kpis: kpis(ctx, m, paidRoas(data)) }
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
  const prevRoas = m.prevSpend ? (m.prevRevenue ?? 0) / m.prevSpend : null;
  const cpa = m.conversions ? (m.spend ?? 0) / m.conversions : null;
  const prevCpa = m.prevConversions ? (m.prevSpend ?? 0) / m.prevConversions : null;
  return {
    sections: views,
    summary,
    kpis: tidy({ spend: m.spend, revenue: m.revenue, roas, conversions: m.conversions, cpa, prev_spend: m.prevSpend, prev_revenue: m.prevRevenue, prev_roas: prevRoas, prev_conversions: m.prevConversions, prev_cpa: prevCpa }),
  };
}
