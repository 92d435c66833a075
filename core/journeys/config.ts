// The journeys stage's settings: the pipeline's `journeys:` section (validated by the `journeys`
// part of core/config/pipeline.schema.json) with every default filled in. Pure: YAML in, a complete
// JourneysConfig out. The defaults are documented in docs/journeys.md; keep the two in step.
import { createHash } from 'node:crypto';
import type { EventKind, JsonObject } from '../sdk/types.ts';

/** Which events close a journey, what the conversion is called and what it is worth. */
export interface ConversionRule {
  /** conversion_name of the journeys it closes; default: the event's name. */
  name?: string;
  /** Event names that are this conversion. */
  events: string[];
  /** CRM deal stages: events whose name, or whose properties[stage_property], is one of these. */
  deal_stages: string[];
  /** The event property holding the deal stage (default `stage`, as the HubSpot connector writes it). */
  stage_property: string;
  /** A fixed value for every such conversion; default: the event's value. */
  value?: number;
  /** A fixed currency; default: the event's currency. */
  currency?: string;
}

/** A stage rule: every condition given must hold (an empty rule matches everything). */
export interface StageRule {
  stage: string;
  /** The touchpoint is (true) / is not (false) the journey's conversion. */
  conversion?: boolean;
  /** The person converted before this touchpoint (true) / had not yet (false). */
  after_conversion?: boolean;
  kinds?: EventKind[];
  events?: string[];
  channels?: string[];
  /** Substrings of the page (properties.page_path, else page_location, else page_url). */
  pages?: string[];
  /** properties[name] is one of values. */
  property?: { name: string; values: string[] };
}

export interface JourneysConfig {
  identifier_priority: string[];
  /** null: every event of kind `conversion` is one, named after the event, with the event's value. */
  conversions: ConversionRule[] | null;
  lookback_days: number;
  session_timeout_minutes: number;
  touch_kinds: EventKind[];
  touch_events: string[];
  exclude_events: string[];
  stages: StageRule[];
  default_stage: string;
  default_channel: string;
}

export const DEFAULT_IDENTIFIER_PRIORITY = ['user_id', 'email', 'hubspot_contact_id', 'phone', 'ga_client_id'];

const PAID_AND_EARNED = ['Paid Search', 'Organic Search', 'Paid Social', 'Organic Social', 'Display', 'Referral', 'Paid Shopping', 'Organic Shopping', 'Paid Video', 'Organic Video', 'Affiliates', 'Audio', 'Cross-network'];

/** Applied in order, first match wins; a touchpoint no rule matches gets default_stage. */
export const DEFAULT_STAGES: StageRule[] = [
  { stage: 'purchase', conversion: true },
  { stage: 'retention', after_conversion: true },
  {
    stage: 'decision',
    events: ['add_to_cart', 'begin_checkout', 'add_shipping_info', 'add_payment_info', 'form_submit', 'generate_lead', 'sign_up', 'request_quote', 'call', 'meeting', 'deal_open', 'deal_created'],
  },
  { stage: 'decision', pages: ['/pricing', '/cart', '/checkout', '/quote', '/demo', '/contact'] },
  { stage: 'consideration', events: ['view_item', 'view_item_list', 'select_item', 'view_promotion', 'email', 'chat', 'file_download', 'webinar'] },
  { stage: 'consideration', channels: ['Email', 'Sales Email', 'Sales Call', 'Meeting'] },
  { stage: 'consideration', pages: ['/product', '/compare', '/features', '/reviews', '/case-stud', '/solutions'] },
  { stage: 'awareness', channels: PAID_AND_EARNED },
];

export const DEFAULTS: JourneysConfig = {
  identifier_priority: DEFAULT_IDENTIFIER_PRIORITY,
  conversions: null,
  lookback_days: 90,
  session_timeout_minutes: 30,
  touch_kinds: ['touch', 'conversion'],
  touch_events: [],
  exclude_events: [],
  stages: DEFAULT_STAGES,
  default_stage: 'awareness',
  default_channel: 'Unassigned',
};

/** Bumped when the assembly's SQL changes what it produces: stored journeys are then rebuilt. */
export const ASSEMBLY_VERSION = 1;

type Raw = Record<string, any>;

/** The `journeys:` section (already validated against the schema) with defaults applied. */
export function resolveJourneysConfig(section: JsonObject | undefined): JourneysConfig {
  const raw: Raw = section ?? {};
  return {
    identifier_priority: raw.identifier_priority ?? DEFAULTS.identifier_priority,
    conversions: raw.conversions === undefined ? null : (raw.conversions as (string | Raw)[]).map(conversionRule),
    lookback_days: raw.lookback_days ?? DEFAULTS.lookback_days,
    session_timeout_minutes: raw.session_timeout_minutes ?? DEFAULTS.session_timeout_minutes,
    touch_kinds: raw.touch_kinds ?? DEFAULTS.touch_kinds,
    touch_events: raw.touch_events ?? DEFAULTS.touch_events,
    exclude_events: raw.exclude_events ?? DEFAULTS.exclude_events,
    stages: raw.stages ? (raw.stages as Raw[]).map((s) => ({ ...s }) as StageRule) : DEFAULTS.stages,
    default_stage: raw.default_stage ?? DEFAULTS.default_stage,
    default_channel: raw.default_channel ?? DEFAULTS.default_channel,
  };
}

function conversionRule(entry: string | Raw): ConversionRule {
  // A bare name is the common case: `conversions: [purchase, deal_won]`.
  if (typeof entry === 'string') return { events: [entry], deal_stages: [], stage_property: 'stage' };
  return {
    ...(entry.name === undefined ? {} : { name: entry.name }),
    events: entry.events ?? [],
    deal_stages: entry.deal_stages ?? [],
    stage_property: entry.stage_property ?? 'stage',
    ...(entry.value === undefined ? {} : { value: entry.value }),
    ...(entry.currency === undefined ? {} : { currency: entry.currency }),
  };
}

/** Identifies what the stored journeys were built with: a different hash means a full rebuild. */
export function configHash(config: JourneysConfig): string {
  return createHash('sha256').update(JSON.stringify({ v: ASSEMBLY_VERSION, config })).digest('hex').slice(0, 16);
}
