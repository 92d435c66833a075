// The built-in `google-ads` connector: campaign spend per day and click-level GCLIDs from the Google
// Ads API (REST SearchStream with GAQL), authenticated with an OAuth refresh token and a developer token.
import { defineConnector } from '../../core/sdk/index.ts';
import { createGoogleAdsClient } from './client.ts';
import type { GoogleAdsConfig } from './client.ts';
import configSchema from './config.schema.json' with { type: 'json' };
import { buildStreams } from './streams.ts';

export type { GoogleAdsConfig } from './client.ts';

export default defineConnector<GoogleAdsConfig>({
  name: 'google-ads',
  version: '0.1.0',
  description: 'Google Ads: daily campaign spend and conversions (campaign_daily) and ad clicks with their GCLID (click_view).',
  configSchema,
  streams: (config) => buildStreams(config),
  // One cheap query proves the refresh token, the developer token and access to the customer.
  async check(ctx) {
    await createGoogleAdsClient(ctx).searchStream('SELECT customer.id, customer.currency_code FROM customer LIMIT 1');
  },
});
