// Pure mapping of Google Ads records to canonical rows: a campaign-day becomes a spend row (cost from
// micros, channel from the campaign's advertising channel type), a click becomes an `ad_click` touch
// carrying its GCLID, which is what lets the identity stage join the ad click to the web session that
// landed with the same gclid.
import type { CanonicalRows, JsonObject } from '../../core/sdk/index.ts';

/**
 * GA4 default channel group names for a campaign's AdvertisingChannelType
 * (https://developers.google.com/google-ads/api/reference/rpc/latest/AdvertisingChannelTypeEnum.AdvertisingChannelType,
 * https://support.google.com/analytics/answer/9756891). Performance Max spans networks, hence Cross-network.
 */
const CHANNELS: Record<string, string> = {
  SEARCH: 'Paid Search',
  DISPLAY: 'Display',
  VIDEO: 'Paid Video',
  SHOPPING: 'Paid Shopping',
  PERFORMANCE_MAX: 'Cross-network',
};

export function channelFor(advertisingChannelType: unknown): string {
  return typeof advertisingChannelType === 'string' ? (CHANNELS[advertisingChannelType] ?? 'Paid Other') : 'Paid Other';
}

// DeviceEnum names to GA4's device category values.
const DEVICES: Record<string, string> = { MOBILE: 'mobile', TABLET: 'tablet', DESKTOP: 'desktop', CONNECTED_TV: 'smart tv', OTHER: 'other' };

function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** campaign_daily → one spend row. Google reports money in micros of the account currency. */
export function mapCampaignDay(r: JsonObject): CanonicalRows {
  return {
    spend: [
      {
        date: String(r.date),
        channel: channelFor(r.advertising_channel_type),
        campaign_id: String(r.campaign_id),
        campaign: str(r.campaign_name),
        cost: Number(r.cost_micros) / 1_000_000,
        currency: String(r.currency_code),
        clicks: typeof r.clicks === 'number' ? r.clicks : null,
        impressions: typeof r.impressions === 'number' ? r.impressions : null,
      },
    ],
  };
}

/**
 * click_view → one `ad_click` touch. The API gives the click's day but no time, so occurred_at is that
 * day at 00:00 UTC (the day is in the account's time zone): ordering within the day is unknown, and
 * `properties.time_precision` says so.
 */
export function mapClick(r: JsonObject): CanonicalRows {
  const gclid = String(r.gclid).trim();
  return {
    events: [
      {
        id: gclid,
        occurred_at: `${String(r.date)}T00:00:00Z`,
        kind: 'touch',
        name: 'ad_click',
        channel: channelFor(r.advertising_channel_type),
        // What GA4 records for an auto-tagged Google Ads click.
        source_medium: 'google / cpc',
        campaign_id: str(r.campaign_id),
        campaign: str(r.campaign_name),
        device: typeof r.device === 'string' ? (DEVICES[r.device] ?? null) : null,
        identifiers: [{ type: 'gclid', value: gclid }],
        properties: {
          customer_id: str(r.customer_id),
          ad_group_id: str(r.ad_group_id),
          ad_group: str(r.ad_group_name),
          keyword: str(r.keyword_text),
          keyword_match_type: str(r.keyword_match_type),
          advertising_channel_type: str(r.advertising_channel_type),
          time_precision: 'day',
        },
      },
    ],
  };
}
