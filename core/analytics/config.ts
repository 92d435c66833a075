// The analytics stage's settings: the pipeline's `analytics:` section (validated by the `analytics`
// part of core/config/pipeline.schema.json) with every default filled in. Pure: YAML in, a complete
// AnalyticsConfig out. Defaults are documented in docs/analytics.md; keep the two in step.
import type { ComparisonMode, PeriodSpec } from './period.ts';

export const ATTRIBUTION_MODELS = ['first_touch', 'last_touch', 'last_non_direct', 'linear', 'time_decay', 'position_based', 'markov', 'shapley'] as const;
export type AttributionModel = (typeof ATTRIBUTION_MODELS)[number];

export const STAGE_ORDER = ['awareness', 'consideration', 'decision', 'purchase', 'retention'];

export interface FunnelStep {
  name: string;
  /** Touchpoints / events with one of these names reach the step… */
  events: string[];
  /** …or touchpoints with one of these stages / channels (any condition given matches). */
  stages: string[];
  channels: string[];
  /** At most this long after the previous step (hours); unbounded when absent. */
  max_hours?: number;
}

export interface FunnelDefinition {
  name: string;
  steps: FunnelStep[];
}

export interface AnalyticsConfig {
  /** Periods the stage computes on each run (reports add their own). */
  periods: PeriodSpec[];
  /** The evaluation day of relative periods: `now`, `latest_data` or a YYYY-MM-DD date. */
  as_of: string;
  timezone: string;
  comparison: ComparisonMode;
  reporting_currency: string;
  fx: {
    /** 1 unit of the currency = rate units of the reporting currency. */
    rates: Record<string, number>;
    /** CSV `date,currency,rate` (path relative to the pipeline file, resolved): dated rates override fixed ones. */
    file?: string;
  };
  /** Segments of every funnel, besides overall: first_touch_channel, first_touch_campaign, device. */
  segments: string[];
  funnels: FunnelDefinition[];
  paths: { top: number; collapse_repeats: boolean; max_length: number; flow_steps: number };
  attribution: {
    models: AttributionModel[];
    half_life_days: number;
    /** Channels `last_non_direct` skips (when a journey has another touch). */
    direct_channels: string[];
    /** Campaigns with no id/name are attributed to this key. */
    unknown_campaign: string;
  };
  cx: {
    /** No touch for this many days after a purchase is a churn signal. */
    churn_days: number;
    /** Event names holding survey scores in `value`: NPS 0–10, CSAT 1–5 (or the configured scale). */
    nps_events: string[];
    csat_events: string[];
    csat_scale: number;
    /** Pain points listed (top N). */
    top: number;
  };
}

export const DEFAULTS: AnalyticsConfig = {
  periods: ['all'],
  as_of: 'now',
  timezone: 'UTC',
  comparison: 'previous_period',
  reporting_currency: 'EUR',
  fx: { rates: {} },
  segments: ['first_touch_channel', 'first_touch_campaign', 'device'],
  funnels: [],
  paths: { top: 20, collapse_repeats: true, max_length: 10, flow_steps: 5 },
  attribution: {
    models: [...ATTRIBUTION_MODELS],
    half_life_days: 7,
    direct_channels: ['Direct', '(direct)', 'Unassigned'],
    unknown_campaign: '(none)',
  },
  cx: { churn_days: 90, nps_events: ['nps', 'nps_response'], csat_events: ['csat', 'csat_response'], csat_scale: 5, top: 10 },
};

type Raw = Record<string, unknown>;

function obj(v: unknown): Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {};
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

/** Fills in defaults. Input is already schema-valid. `baseDir` resolves `fx.file`. */
export function resolveAnalyticsConfig(section: unknown, resolvePath: (p: string) => string = (p) => p): AnalyticsConfig {
  const a = obj(section);
  const paths = obj(a.paths);
  const attribution = obj(a.attribution);
  const cx = obj(a.cx);
  const fx = obj(a.fx);
  const funnels = (Array.isArray(a.funnels) ? a.funnels : []).map((f): FunnelDefinition => {
    const fo = obj(f);
    return {
      name: String(fo.name),
      steps: (Array.isArray(fo.steps) ? fo.steps : []).map((s): FunnelStep => {
        if (typeof s === 'string') return { name: s, events: [s], stages: [], channels: [] };
        const so = obj(s);
        const step: FunnelStep = { name: String(so.name ?? list(so.events)[0] ?? list(so.stages)[0] ?? list(so.channels)[0]), events: list(so.events), stages: list(so.stages), channels: list(so.channels) };
        if (typeof so.max_hours === 'number') step.max_hours = so.max_hours;
        return step;
      }),
    };
  });
  return {
    periods: Array.isArray(a.periods) ? (a.periods as PeriodSpec[]) : DEFAULTS.periods,
    as_of: typeof a.as_of === 'string' ? a.as_of : a.as_of instanceof Date ? a.as_of.toISOString().slice(0, 10) : DEFAULTS.as_of,
    timezone: typeof a.timezone === 'string' ? a.timezone : DEFAULTS.timezone,
    comparison: (a.comparison as ComparisonMode) ?? DEFAULTS.comparison,
    reporting_currency: typeof a.reporting_currency === 'string' ? a.reporting_currency.toUpperCase() : DEFAULTS.reporting_currency,
    fx: {
      rates: Object.fromEntries(Object.entries(obj(fx.rates)).map(([k, v]) => [k.toUpperCase(), Number(v)])),
      ...(typeof fx.file === 'string' ? { file: resolvePath(fx.file) } : {}),
    },
    segments: Array.isArray(a.segments) ? list(a.segments) : DEFAULTS.segments,
    funnels,
    paths: { ...DEFAULTS.paths, ...(paths as Partial<AnalyticsConfig['paths']>) },
    attribution: {
      ...DEFAULTS.attribution,
      ...(attribution as Partial<AnalyticsConfig['attribution']>),
      models: Array.isArray(attribution.models) ? (attribution.models as AttributionModel[]) : DEFAULTS.attribution.models,
    },
    cx: { ...DEFAULTS.cx, ...(cx as Partial<AnalyticsConfig['cx']>) },
  };
}
