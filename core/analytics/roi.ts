// ROI: ad spend (a_spend, in the reporting currency) set against each attribution model's attributed
// conversions and revenue (attribution.ts's `<p>attr`), per channel, per campaign, per day and
// channel, and in total, with the comparison period's figures (the same tables with `a_prev_`) and
// the relative changes. SQL returns aggregates only (sums per key); the join of the three sources —
// spend, attribution, journeys touched — and the ratios are done here. Definitions:
// docs/analytics.md#roi.
import { exec, raw } from '../store/sql.ts';
import { campaignLabels, ensureAttributed } from './attribution.ts';
import type { AnalyticsContext, ResultRow } from './types.ts';

interface Figures {
  spend: number;
  /** Whether any spend row exists for the key (a channel without cost data has no CPA). */
  hasSpend: boolean;
  revenue: number;
  conversions: number;
  journeys: number;
}

type Dim = 'total' | 'channel' | 'campaign' | 'date';
/** `dimension|key` (date rows: `date|<date>|<channel>`) → figures, per model. */
type Book = Map<string, Map<string, Figures>>;

const EMPTY = (): Figures => ({ spend: 0, hasSpend: false, revenue: 0, conversions: 0, journeys: 0 });

function num(v: unknown): number {
  return v === null || v === undefined ? 0 : Number(v);
}

function slot(book: Map<string, Figures>, id: string): Figures {
  let f = book.get(id);
  if (!f) book.set(id, (f = EMPTY()));
  return f;
}

/** Figures of one period (prefix) for every model. */
async function figures(ctx: AnalyticsContext, p: 'a_' | 'a_prev_', models: readonly string[]): Promise<Book> {
  await ensureAttributed(ctx, p);
  const q = async (text: string) => (await exec(ctx.db, raw(text))).rows;
  const spend = await q(`select 'channel' as dim, coalesce(channel, '(none)') as key, null as date, sum(cost) as spend from ${p}spend group by coalesce(channel, '(none)')
    union all select 'campaign', campaign_key, null, sum(cost) from ${p}spend group by campaign_key
    union all select 'date', coalesce(channel, '(none)'), cast(date as text), sum(cost) from ${p}spend group by coalesce(channel, '(none)'), date
    union all select 'total', 'total', null, sum(cost) from ${p}spend`);
  const attributed = await q(`select model, dimension as dim, key, null as date, sum(conversions) as conversions, sum(revenue) as revenue from ${p}attr group by model, dimension, key
    union all select model, 'date', key, cast(date as text), sum(conversions), sum(revenue) from ${p}attr where dimension = 'channel' group by model, key, date`);
  const touched = await q(`select 'channel' as dim, channel as key, null as date, count(distinct journey_id) as journeys from ${p}at group by channel
    union all select 'campaign', campaign_key, null, count(distinct journey_id) from ${p}at group by campaign_key
    union all select 'date', channel, cast(touch_date as text), count(distinct journey_id) from ${p}at group by channel, touch_date
    union all select 'total', 'total', null, count(*) from ${p}journeys`);
  const id = (r: Record<string, unknown>) => (r.dim === 'date' ? `date|${String(r.date).slice(0, 10)}|${r.key}` : `${r.dim}|${r.key}`);
  const book: Book = new Map(models.map((m) => [m, new Map<string, Figures>()]));
  for (const [, b] of book) {
    for (const r of spend) {
      const f = slot(b, id(r));
      f.spend += num(r.spend);
      // null: no spend row (the total of an empty period), or none with a usable exchange rate.
      f.hasSpend ||= r.spend !== null;
    }
  }
  for (const r of attributed) {
    const b = book.get(String(r.model));
    if (!b) continue;
    const f = slot(b, id(r));
    f.conversions += num(r.conversions);
    f.revenue += num(r.revenue);
    if (r.dim === 'channel') {
      const t = slot(b, 'total|total');
      t.conversions += num(r.conversions);
      t.revenue += num(r.revenue);
    }
  }
  // Journeys touched only describe keys that have spend or attribution: not rows of their own.
  const journeys = new Map(touched.map((r) => [id(r), num(r.journeys)]));
  for (const [, b] of book) {
    slot(b, 'total|total');
    for (const [k, f] of b) f.journeys = journeys.get(k) ?? 0;
  }
  return book;
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

/** (x − prev) / prev; null when prev is 0 or absent. */
export function change(x: number | null, prev: number | null): number | null {
  if (x === null || prev === null || prev === 0) return null;
  return (x - prev) / prev;
}

export async function computeRoi(ctx: AnalyticsContext): Promise<ResultRow[]> {
  const models = [...new Set(ctx.config.attribution.models)];
  const current = await figures(ctx, 'a_', models);
  const previous = ctx.comparison ? await figures(ctx, 'a_prev_', models) : null;
  const { campaigns } = await campaignLabels(ctx, 'a_');
  const currency = ctx.config.reporting_currency;
  const rows: ResultRow[] = [];
  for (const model of models) {
    const book = current.get(model) as Map<string, Figures>;
    const prevBook = previous?.get(model);
    const ids = [...book.keys()].sort();
    for (const id of ids) {
      const f = book.get(id) as Figures;
      const [dim, ...rest] = id.split('|') as [Dim, ...string[]];
      const date = dim === 'date' ? rest[0] : null;
      const key = dim === 'date' ? rest.slice(1).join('|') : rest.join('|');
      const campaign = dim === 'campaign' ? campaigns.get(key) : undefined;
      const roas = f.hasSpend ? ratio(f.revenue, f.spend) : null;
      // Day rows have no comparison: the previous period's days are other dates.
      const prev = prevBook && dim !== 'date' ? (prevBook.get(id) ?? EMPTY()) : null;
      const prevRoas = prev && prev.hasSpend ? ratio(prev.revenue, prev.spend) : null;
      rows.push({
        model,
        dimension: dim,
        key,
        label: dim === 'total' ? 'Total' : (campaign?.label ?? key),
        channel: dim === 'total' ? null : dim === 'campaign' ? (campaign?.channel ?? null) : key,
        date,
        spend: f.spend,
        revenue: f.revenue,
        conversions: f.conversions,
        journeys: f.journeys,
        roas,
        cpa: f.hasSpend ? ratio(f.spend, f.conversions) : null,
        cost_per_journey: f.hasSpend ? ratio(f.spend, f.journeys) : null,
        currency,
        prev_spend: prev ? prev.spend : null,
        prev_revenue: prev ? prev.revenue : null,
        prev_conversions: prev ? prev.conversions : null,
        prev_roas: prevRoas,
        spend_change: prev ? change(f.spend, prev.spend) : null,
        revenue_change: prev ? change(f.revenue, prev.revenue) : null,
        roas_change: prev ? change(roas, prevRoas) : null,
      });
    }
  }
  return rows;
}
