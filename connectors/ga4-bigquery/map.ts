// Pure mapping of one GA4 export record (export-row.ts) to canonical rows, shared with the `file`
// connector's `format: ga4-export`. Each event becomes one canonical event: a touch (session_start,
// page_view …), a conversion (purchase, generate_lead, sign_up, or an event GA4 flags as one), or
// `other`. Identifiers: user_pseudo_id → ga_client_id, user_id, gclid and fbclid from the landing URL
// or collected_traffic_source. The channel is GA4's own session default channel group when the export
// carries it, else channel-group.ts applied to the best traffic source the row has, most trusted
// first (https://developers.google.com/analytics/bigquery/traffic-attribution-data):
//   1. session_traffic_source_last_click (session scope, on every event since 2024 exports)
//   2. collected_traffic_source (event scope: the utm_* / gclid GA4 collected on this event)
//   3. the source / medium / campaign event parameters (older web exports)
//   4. the utm_* and gclid of page_location
//   5. for session_start / first_visit only: the referrer, else (direct) / (none)
// `traffic_source` is the user's FIRST source (user scope), so it is never used for an event.
import type { CanonicalEvent, CanonicalRows, Identifier, JsonObject, JsonValue } from '../../core/sdk/index.ts';
import { SOURCE_CATEGORIES, defaultChannelGroup } from './channel-group.ts';
import { paramValue } from './export-row.ts';
import type { Ga4Param, Ga4Record } from './export-row.ts';

export interface Ga4MapOptions {
  /** Event names that are conversions (default purchase, generate_lead, sign_up). */
  conversionEvents?: readonly string[];
  /** Event names that are touches (default session_start, first_visit, page_view, screen_view, user_engagement). */
  touchEvents?: readonly string[];
  /** Keep events that are neither, as kind `other` (default true). Dropped ones still yield their identifier link. */
  keepOtherEvents?: boolean;
}

export const DEFAULT_CONVERSION_EVENTS: readonly string[] = ['purchase', 'generate_lead', 'sign_up'];
export const DEFAULT_TOUCH_EVENTS: readonly string[] = ['session_start', 'first_visit', 'page_view', 'screen_view', 'user_engagement'];

interface Compiled {
  conversions: Set<string>;
  touches: Set<string>;
  keepOther: boolean;
}

const compiledCache = new WeakMap<Ga4MapOptions, Compiled>();
const NO_OPTIONS: Ga4MapOptions = {};

function compile(options: Ga4MapOptions): Compiled {
  let c = compiledCache.get(options);
  if (!c) {
    c = {
      conversions: new Set(options.conversionEvents ?? DEFAULT_CONVERSION_EVENTS),
      touches: new Set(options.touchEvents ?? DEFAULT_TOUCH_EVENTS),
      keepOther: options.keepOtherEvents ?? true,
    };
    compiledCache.set(options, c);
  }
  return c;
}

/** The event parameters the mapping reads, gathered in one pass. */
interface Params {
  ga_session_id?: string | number;
  ga_session_number?: string | number;
  page_location?: string;
  page_referrer?: string;
  page_title?: string;
  value?: string | number;
  currency?: string;
  transaction_id?: string;
  source?: string;
  medium?: string;
  campaign?: string;
  campaign_id?: string;
  gclid?: string;
  /** App streams: 1 on events marked as conversions (key events). */
  firebase_conversion?: string | number;
}

const WANTED = new Set<string>([
  'ga_session_id', 'ga_session_number', 'page_location', 'page_referrer', 'page_title', 'value', 'currency', 'transaction_id',
  'source', 'medium', 'campaign', 'campaign_id', 'gclid', 'firebase_conversion',
]);

function readParams(record: Ga4Record): Params {
  const out: Record<string, string | number> = {};
  const list = record.event_params;
  if (Array.isArray(list)) {
    for (const p of list as unknown as Ga4Param[]) {
      if (!p || !WANTED.has(p.key)) continue;
      const v = paramValue(p.value);
      if (v !== null) out[p.key] = v;
    }
  }
  return out as Params;
}

interface Traffic {
  source: string | null;
  medium: string | null;
  campaign: string | null;
  campaignId: string | null;
  /** GA4's own channel, when the export carries it. */
  channel: string | null;
}

function obj(value: JsonValue | undefined): JsonObject | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function str(value: JsonValue | undefined | string | number): string | null {
  if (value === undefined || value === null) return null;
  const s = (typeof value === 'string' ? value : String(value)).trim();
  return s === '' ? null : s;
}

function num(value: JsonValue | undefined | string | number): number | null {
  if (value === undefined || value === null || value === '') return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

/** The query parameters of a URL that matter here, without building a URL object when there are none. */
function urlParams(location: string | undefined): URLSearchParams | undefined {
  if (!location) return undefined;
  const q = location.indexOf('?');
  if (q < 0) return undefined;
  const hash = location.indexOf('#', q);
  const query = hash < 0 ? location.slice(q + 1) : location.slice(q + 1, hash);
  if (!query.includes('gclid=') && !query.includes('fbclid=') && !query.includes('utm_')) return undefined;
  return new URLSearchParams(query);
}

function hostOf(url: string | undefined): string | null {
  if (!url) return null;
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#:]+)/i.exec(url);
  return m ? m[1].toLowerCase() : null;
}

// Search engines whose many country domains (google.de, bing.co.uk …) GA4 reports as the bare name.
const SEARCH_NAMES = /(?:^|\.)(google|bing|yahoo|duckduckgo|baidu|yandex|ecosia|naver|seznam|sogou|qwant)\.[a-z.]+$/;

function fromReferrer(referrer: string | undefined, location: string | undefined): Traffic {
  const none: Traffic = { source: '(direct)', medium: '(none)', campaign: null, campaignId: null, channel: null };
  const host = hostOf(referrer);
  if (!host || host === hostOf(location)) return none;
  const bare = host.startsWith('www.') ? host.slice(4) : host;
  const engine = SEARCH_NAMES.exec(bare);
  if (engine) return { source: engine[1], medium: 'organic', campaign: null, campaignId: null, channel: null };
  if (SOURCE_CATEGORIES.get(bare) === 'search') return { source: bare, medium: 'organic', campaign: null, campaignId: null, channel: null };
  return { source: bare, medium: 'referral', campaign: null, campaignId: null, channel: null };
}

function trafficOf(record: Ga4Record, params: Params, query: URLSearchParams | undefined, sessionLevel: boolean): Traffic | null {
  const session = obj(record.session_traffic_source_last_click);
  if (session) {
    const cross = obj(session.cross_channel_campaign);
    const manual = obj(session.manual_campaign);
    const ads = obj(session.google_ads_campaign);
    if (cross && str(cross.default_channel_group)) {
      return {
        source: str(cross.source),
        medium: str(cross.medium),
        campaign: str(cross.campaign_name),
        campaignId: str(cross.campaign_id),
        channel: str(cross.default_channel_group),
      };
    }
    if (manual && (str(manual.source) || str(manual.medium))) {
      return { source: str(manual.source), medium: str(manual.medium), campaign: str(manual.campaign_name), campaignId: str(manual.campaign_id), channel: null };
    }
    if (ads && (str(ads.campaign_id) || str(ads.campaign_name))) {
      return { source: 'google', medium: 'cpc', campaign: str(ads.campaign_name), campaignId: str(ads.campaign_id), channel: null };
    }
  }
  const collected = obj(record.collected_traffic_source);
  if (collected) {
    if (str(collected.manual_source) || str(collected.manual_medium)) {
      return {
        source: str(collected.manual_source),
        medium: str(collected.manual_medium),
        campaign: str(collected.manual_campaign_name),
        campaignId: str(collected.manual_campaign_id),
        channel: null,
      };
    }
    // Auto-tagged clicks carry only the click id: GA4 reports them as google / cpc (Google Ads) and
    // dbm / cpm (Display & Video 360, dclid).
    if (str(collected.gclid)) return { source: 'google', medium: 'cpc', campaign: null, campaignId: null, channel: null };
    if (str(collected.dclid)) return { source: 'dbm', medium: 'cpm', campaign: null, campaignId: null, channel: null };
  }
  if (params.source !== undefined || params.medium !== undefined) {
    return { source: str(params.source), medium: str(params.medium), campaign: str(params.campaign), campaignId: str(params.campaign_id), channel: null };
  }
  if (query) {
    const source = str(query.get('utm_source') ?? undefined);
    const medium = str(query.get('utm_medium') ?? undefined);
    if (source || medium) {
      return { source, medium, campaign: str(query.get('utm_campaign') ?? undefined), campaignId: str(query.get('utm_id') ?? undefined), channel: null };
    }
    if (query.has('gclid')) return { source: 'google', medium: 'cpc', campaign: null, campaignId: null, channel: null };
  }
  return sessionLevel ? fromReferrer(params.page_referrer, params.page_location) : null;
}

/** µs since the epoch (digit string) → ISO 8601 with microseconds. */
function isoFromMicros(micros: string): string | null {
  if (!/^\d{1,17}$/.test(micros)) return null;
  const n = Number(micros);
  const iso = new Date(Math.floor(n / 1000)).toISOString();
  return `${iso.slice(0, 23)}${micros.slice(-3).padStart(3, '0')}Z`;
}

function isFlagSet(value: string | number | undefined): boolean {
  return value !== undefined && (value === 1 || value === '1' || value === 'true');
}

function put(properties: JsonObject, key: string, value: JsonValue | undefined): void {
  if (value !== undefined && value !== null && value !== '') properties[key] = value;
}

/** One GA4 export record → its canonical event (and, when the event itself is dropped, its identifier link). */
export function mapGa4Event(record: Ga4Record, options: Ga4MapOptions = NO_OPTIONS): CanonicalRows {
  const settings = compile(options);
  const name = record.event_name;
  const params = readParams(record);
  const query = urlParams(params.page_location);
  const collected = obj(record.collected_traffic_source);

  const clientId = str(record.user_pseudo_id);
  const userId = str(record.user_id);
  const identifiers: Identifier[] = [];
  if (clientId) identifiers.push({ type: 'ga_client_id', value: clientId });
  if (userId) identifiers.push({ type: 'user_id', value: userId });
  const gclid = str(collected?.gclid) ?? str(query?.get('gclid') ?? undefined) ?? str(params.gclid);
  if (gclid) identifiers.push({ type: 'gclid', value: gclid });
  const fbclid = str(query?.get('fbclid') ?? undefined);
  if (fbclid) identifiers.push({ type: 'fbclid', value: fbclid });

  const conversion = settings.conversions.has(name) || isFlagSet(params.firebase_conversion);
  const kind = conversion ? 'conversion' : settings.touches.has(name) ? 'touch' : 'other';
  const occurredAt = isoFromMicros(record.event_timestamp) ?? record.event_timestamp;
  if (kind === 'other' && !settings.keepOther) {
    return identifiers.length > 1 ? { links: [{ id: record.event_id, identifiers, observed_at: occurredAt }] } : {};
  }

  const traffic = trafficOf(record, params, query, name === 'session_start' || name === 'first_visit');
  const channel = traffic ? (traffic.channel ?? defaultChannelGroup({ source: traffic.source, medium: traffic.medium, campaign: traffic.campaign })) : null;
  const sourceMedium = traffic && (traffic.source || traffic.medium) ? `${traffic.source ?? '(not set)'} / ${traffic.medium ?? '(not set)'}` : null;

  // Revenue: the ecommerce record's purchase_revenue (local currency) for purchases, else the event's
  // `value` parameter; `currency` is the event parameter. event_value_in_usd is the last resort.
  const ecommerce = obj(record.ecommerce);
  let value = num(ecommerce?.purchase_revenue) ?? num(params.value);
  let currency = str(params.currency);
  if (value === null && num(record.event_value_in_usd) !== null) {
    value = num(record.event_value_in_usd);
    currency = 'USD';
  }

  const properties: JsonObject = {};
  put(properties, 'page_location', params.page_location);
  put(properties, 'page_title', params.page_title);
  put(properties, 'page_referrer', params.page_referrer);
  put(properties, 'ga_session_number', num(params.ga_session_number));
  put(properties, 'transaction_id', str(params.transaction_id) ?? str(ecommerce?.transaction_id));
  put(properties, 'country', str(obj(record.geo)?.country));
  put(properties, 'platform', str(record.platform));
  put(properties, 'stream_id', str(record.stream_id));
  if (Array.isArray(record.items) && record.items.length > 0) properties.items = record.items.length;

  const device = obj(record.device);
  const sessionId = clientId && params.ga_session_id !== undefined ? `${clientId}:${params.ga_session_id}` : null;
  const event: CanonicalEvent = {
    id: record.event_id,
    occurred_at: occurredAt,
    kind,
    name,
    channel,
    source_medium: sourceMedium,
    campaign_id: traffic?.campaignId ?? null,
    campaign: traffic?.campaign ?? null,
    value,
    currency,
    session_id: sessionId,
    device: str(device?.category),
    identifiers,
    properties,
  };
  return { events: [event] };
}
