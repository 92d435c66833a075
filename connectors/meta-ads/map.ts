// Pure mapping of a Meta campaign-day insights record to a spend row. Meta sends money and counts as
// strings in the ad account's currency; the record schema has already checked they are numeric.
import type { CanonicalRows, JsonObject } from '../../core/sdk/index.ts';

function count(v: unknown): number | null {
  if (typeof v === 'number') return v;
  return typeof v === 'string' && v !== '' ? Number.parseInt(v, 10) : null;
}

export function mapInsight(r: JsonObject): CanonicalRows {
  return {
    spend: [
      {
        date: String(r.date_start),
        // Every Meta placement (Facebook, Instagram, Messenger, Audience Network) is paid social in GA4's
        // default channel group (https://support.google.com/analytics/answer/9756891).
        channel: 'Paid Social',
        campaign_id: String(r.campaign_id),
        campaign: typeof r.campaign_name === 'string' && r.campaign_name.trim() !== '' ? r.campaign_name.trim() : null,
        cost: typeof r.spend === 'number' ? r.spend : Number.parseFloat(String(r.spend)),
        currency: String(r.account_currency),
        clicks: count(r.clicks),
        impressions: count(r.impressions),
      },
    ],
  };
}
