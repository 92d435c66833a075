// Synthetic GA4 export rows for the fake's big tables (pagination tests) and the parse benchmark:
// deterministic (a seeded LCG), shaped like real web export rows (a dozen event parameters, device,
// geo, privacy_info, traffic sources, ecommerce and items on purchases), INT64 columns as digit strings.
import type { JsonObject } from '../../../core/sdk/index.ts';

export interface GenerateOptions {
  /** YYYY-MM-DD: the table's date; events fall within that UTC day. */
  date: string;
  count: number;
  seed?: number;
  /** Distinct user_pseudo_ids (default count / 8). */
  users?: number;
}

const NAMES = ['session_start', 'page_view', 'page_view', 'user_engagement', 'scroll', 'page_view', 'view_item', 'add_to_cart'];
const SOURCES = [
  { source: 'google', medium: 'cpc', campaign: 'brand_search' },
  { source: 'google', medium: 'organic', campaign: '(organic)' },
  { source: 'facebook', medium: 'paid_social', campaign: 'retarget_may' },
  { source: 'newsletter', medium: 'email', campaign: 'may_digest' },
  { source: '(direct)', medium: '(none)', campaign: '(direct)' },
  { source: 'partner.example', medium: 'referral', campaign: '(referral)' },
];
const PAGES = ['/', '/spring', '/shirts/linen', '/bags/canvas', '/blog/linen-care', '/cart', '/checkout'];

function param(key: string, v: { s?: string; i?: number | string; d?: number }): JsonObject {
  return {
    key,
    value: {
      string_value: v.s ?? null,
      int_value: v.i === undefined ? null : String(v.i),
      float_value: null,
      double_value: v.d ?? null,
    },
  };
}

export function generateExportRows(o: GenerateOptions): JsonObject[] {
  let state = (o.seed ?? 1) >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const dayStart = Date.parse(`${o.date}T00:00:00Z`) / 1000;
  const compact = o.date.replaceAll('-', '');
  const users = Math.max(1, o.users ?? Math.ceil(o.count / 8));
  const rows: JsonObject[] = [];
  for (let n = 0; n < o.count; n++) {
    const user = Math.floor(next() * users);
    const seconds = dayStart + Math.floor(next() * 86_399);
    const micros = `${seconds}${String(Math.floor(next() * 1e6)).padStart(6, '0')}`;
    const session = dayStart + (user % 86_000);
    const traffic = SOURCES[user % SOURCES.length];
    const purchase = next() < 0.025;
    const name = purchase ? 'purchase' : NAMES[n % NAMES.length];
    const page = PAGES[Math.floor(next() * PAGES.length)];
    const query = traffic.medium === '(none)' ? '' : `?utm_source=${traffic.source}&utm_medium=${traffic.medium}&utm_campaign=${traffic.campaign}${traffic.medium === 'cpc' ? `&gclid=Cj0KCQ${user}` : ''}`;
    const params = [
      param('ga_session_id', { i: session }),
      param('ga_session_number', { i: 1 + (user % 5) }),
      param('page_location', { s: `https://shop.example.com${page}${name === 'session_start' ? query : ''}` }),
      param('page_referrer', { s: traffic.medium === 'referral' ? 'https://partner.example/' : 'https://shop.example.com/' }),
      param('page_title', { s: `Example Shop – ${page}` }),
      param('engagement_time_msec', { i: Math.floor(next() * 60_000) }),
      param('session_engaged', { s: '1' }),
      param('batch_ordering_id', { i: 1 + (n % 9) }),
    ];
    if (purchase) params.push(param('transaction_id', { s: `T-${o.date}-${n}` }), param('value', { d: 49.9 }), param('currency', { s: 'EUR' }));
    rows.push({
      event_date: compact,
      event_timestamp: micros,
      event_name: name,
      event_params: params,
      event_previous_timestamp: null,
      event_value_in_usd: purchase ? 53.6 : null,
      event_bundle_sequence_id: String(1000 + n),
      event_server_timestamp_offset: String(Math.floor(next() * 900_000)),
      user_id: user % 7 === 0 ? `u-${user}` : null,
      user_pseudo_id: `${1_000_000_000 + user}.${dayStart}`,
      privacy_info: { analytics_storage: 'Yes', ads_storage: 'Yes', uses_transient_token: 'No' },
      user_properties: [],
      user_first_touch_timestamp: `${dayStart}000000`,
      user_ltv: purchase ? { revenue: 49.9, currency: 'EUR' } : null,
      device: {
        category: user % 3 === 0 ? 'mobile' : 'desktop',
        operating_system: user % 3 === 0 ? 'iOS' : 'Windows',
        language: 'en-us',
        is_limited_ad_tracking: 'No',
        web_info: { browser: 'Chrome', browser_version: '124.0.0.0', hostname: 'shop.example.com' },
      },
      geo: { city: 'Warsaw', country: 'Poland', continent: 'Europe', region: 'Masovian Voivodeship', sub_continent: 'Eastern Europe', metro: '(not set)' },
      app_info: null,
      traffic_source: { name: traffic.campaign, medium: traffic.medium, source: traffic.source },
      stream_id: '4012345678',
      platform: 'WEB',
      event_dimensions: null,
      ecommerce: purchase ? { total_item_quantity: '1', purchase_revenue: 49.9, purchase_revenue_in_usd: 53.6, unique_items: '1', transaction_id: `T-${o.date}-${n}` } : null,
      items: purchase ? [{ item_id: 'SKU-1', item_name: 'Linen shirt', price: 49.9, quantity: '1', item_revenue: 49.9, item_params: [] }] : [],
      collected_traffic_source:
        name === 'session_start' && traffic.medium !== '(none)'
          ? { manual_source: traffic.source, manual_medium: traffic.medium, manual_campaign_name: traffic.campaign, gclid: traffic.medium === 'cpc' ? `Cj0KCQ${user}` : null }
          : null,
      is_active_user: true,
      batch_event_index: String(n % 4),
      batch_page_id: String(seconds * 1000 + (user % 1000)),
      batch_ordering_id: String(1 + (n % 9)),
      session_traffic_source_last_click: {
        manual_campaign: { source: traffic.source, medium: traffic.medium, campaign_name: traffic.campaign },
        google_ads_campaign: null,
        cross_channel_campaign: null,
      },
      publisher: null,
    });
  }
  return rows;
}
