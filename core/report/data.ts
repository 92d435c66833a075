// The data the built-in templates (cx, roi) read, for the period and its comparison period: the
// analytics result tables by period key, plus journey figures read straight from `journeys` (counts and
// time to convert need no analytics module). Portable SQL (DuckDB and PostgreSQL); nothing here
// formats or decides what to say — that is view.ts.
import type { Knex } from 'knex';
import type { ResolvedPeriod } from '../analytics/period.ts';
import type { Row } from './query.ts';

export interface JourneyFigures {
  journeys: number;
  conversions: number;
  median_seconds_to_convert: number | null;
}

export interface TemplateData {
  journeys: JourneyFigures | null;
  prevJourneys: JourneyFigures | null;
  /** Time to convert, by bucket (bucket order 1…). */
  timeToConvert: Row[];
  funnels: Row[];
  prevFunnels: Row[];
  flows: Row[];
  paths: Row[];
  cx: Row[];
  prevCx: Row[];
  /** NPS and CSAT by month (segment_type month), the 12 months up to the period's end, oldest first. */
  cxTrend?: Row[];
  /** roi_results of the report's model. */
  roi: Row[];
  /** attribution_results by channel, every model. */
  attribution: Row[];
  prevAttribution: Row[];
}

const ENDS = 'coalesce(conversion_at, ended_at)';

function bounded(q: Knex.QueryBuilder, p: ResolvedPeriod): Knex.QueryBuilder {
  return p.start && p.end ? q.whereRaw(`${ENDS} >= ? and ${ENDS} < ?`, [p.start, p.end]) : q;
}

/** Journeys ending in the period (a converting one at its conversion), as analytics counts them (prepare.ts). */
export async function journeyFigures(db: Knex, p: ResolvedPeriod | null): Promise<JourneyFigures | null> {
  if (!p) return null;
  // One scan: the duration is null for journeys without a conversion, and percentile_cont skips nulls.
  const [row] = (await bounded(db('journeys'), p).select(
    db.raw('count(*) as journeys'),
    db.raw('sum(case when conversion_at is not null then 1 else 0 end) as conversions'),
    db.raw('percentile_cont(0.5) within group (order by extract(epoch from conversion_at) - extract(epoch from started_at)) as s'),
  )) as Row[];
  const n = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
  return { journeys: n(row?.journeys), conversions: n(row?.conversions), median_seconds_to_convert: row?.s === null || row?.s === undefined ? null : Number(row.s) };
}

const BUCKETS: [string, number | null][] = [
  ['Same day', 86_400],
  ['1–7 days', 7 * 86_400],
  ['1–4 weeks', 28 * 86_400],
  ['1–3 months', 90 * 86_400],
  ['Over 3 months', null],
];

export const TIME_BUCKETS = BUCKETS.map(([label]) => label);

export async function timeToConvert(db: Knex, p: ResolvedPeriod): Promise<Row[]> {
  const seconds = 'extract(epoch from conversion_at) - extract(epoch from started_at)';
  let bucket = 'case';
  const bindings: number[] = [];
  BUCKETS.forEach(([, max], i) => {
    if (max === null) bucket += ` else ${i + 1}`;
    else {
      bucket += ` when ${seconds} < ? then ${i + 1}`;
      bindings.push(max);
    }
  });
  bucket += ' end';
  const rows = (await bounded(db('journeys'), p)
    .whereNotNull('conversion_at')
    .select(db.raw(`${bucket} as bucket`, bindings), db.raw('count(*) as journeys'))
    .groupByRaw('1')
    .orderByRaw('1')) as Row[];
  return rows.map((r) => ({ bucket: Number(r.bucket), label: BUCKETS[Number(r.bucket) - 1][0], journeys: Number(r.journeys) }));
}

async function byPeriod(db: Knex, table: string, p: ResolvedPeriod | null, where: Record<string, unknown> = {}, order: string[] = []): Promise<Row[]> {
  if (!p) return [];
  let q = db(table).where('period', p.key).where(where);
  for (const o of order) q = q.orderBy(o);
  return (await q) as Row[];
}

export const TREND_MONTHS = 12;

/**
 * NPS and CSAT per month for a trend: a month-long report period has one month of its own, so the
 * months come from the `all` period (its month rows span the whole history) when the pipeline
 * computes it, topped up with the month rows of the period and its comparison (computed just now,
 * so they win for their months).
 */
export async function surveyTrend(db: Knex, p: ResolvedPeriod, c: ResolvedPeriod | null): Promise<Row[]> {
  const end = p.endDate?.slice(0, 7) ?? null;
  const read = (period: string) => {
    const q = db('cx_metrics').where({ period, segment_type: 'month' }).whereIn('metric', ['nps', 'csat']);
    return (end ? q.where('segment_value', '<=', end) : q) as Promise<Row[]>;
  };
  const byKey = new Map<string, Row>();
  for (const key of ['all', ...(c ? [c.key] : []), p.key]) for (const r of await read(key)) byKey.set(`${String(r.metric)}|${String(r.segment_value)}`, r);
  const months = [...new Set([...byKey.values()].map((r) => String(r.segment_value)))].sort().slice(-TREND_MONTHS);
  return [...byKey.values()].filter((r) => months.includes(String(r.segment_value))).sort((a, b) => String(a.segment_value).localeCompare(String(b.segment_value)) || String(a.metric).localeCompare(String(b.metric)));
}

/** Everything a built-in template may show; each part is empty when its analytics produced nothing. */
export async function templateData(db: Knex, template: string, model: string, p: ResolvedPeriod, c: ResolvedPeriod | null): Promise<TemplateData> {
  const empty: TemplateData = { journeys: null, prevJourneys: null, timeToConvert: [], funnels: [], prevFunnels: [], flows: [], paths: [], cx: [], prevCx: [], cxTrend: [], roi: [], attribution: [], prevAttribution: [] };
  const data = { ...empty, journeys: await journeyFigures(db, p), prevJourneys: await journeyFigures(db, c) };
  if (template === 'cx') {
    data.timeToConvert = await timeToConvert(db, p);
    data.funnels = await byPeriod(db, 'funnel_results', p, { segment_type: 'all' }, ['funnel', 'step_number']);
    data.prevFunnels = await byPeriod(db, 'funnel_results', c, { segment_type: 'all' }, ['funnel', 'step_number']);
    data.flows = await byPeriod(db, 'path_results', p, { kind: 'flow' }, ['step']);
    data.paths = await byPeriod(db, 'path_results', p, { kind: 'conversion_path' }, ['rank']);
    data.cx = await byPeriod(db, 'cx_metrics', p, {}, ['metric', 'segment_type', 'segment_value']);
    data.prevCx = await byPeriod(db, 'cx_metrics', c, { segment_type: 'all' }, ['metric']);
    data.cxTrend = await surveyTrend(db, p, c);
  }
  // The roi template's figures; the cx template uses the total for its revenue KPI.
  data.roi = await byPeriod(db, 'roi_results', p, { model }, ['dimension', 'key']);
  data.attribution = await byPeriod(db, 'attribution_results', p, { dimension: 'channel' }, ['model', 'key']);
  if (template === 'roi') data.prevAttribution = await byPeriod(db, 'attribution_results', c, { dimension: 'channel', model }, ['key']);
  return data;
}
