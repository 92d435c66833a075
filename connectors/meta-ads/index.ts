// The built-in `meta-ads` connector: daily campaign spend from the Meta Marketing API Insights edge
// (Facebook, Instagram, Messenger and Audience Network placements), authenticated with an access token.
import { defineConnector } from '../../core/sdk/index.ts';
import { createMetaClient } from './client.ts';
import type { MetaAdsConfig } from './client.ts';
import configSchema from './config.schema.json' with { type: 'json' };
import { buildStreams } from './streams.ts';

export type { MetaAdsConfig } from './client.ts';

export default defineConnector<MetaAdsConfig>({
  name: 'meta-ads',
  version: '0.1.0',
  description: 'Meta Ads: spend, clicks, impressions and actions per campaign and day (campaign_insights).',
  configSchema,
  streams: (config) => buildStreams(config),
  // Reading the ad account proves the token, its ads_read permission and access to the account.
  async check(ctx) {
    await createMetaClient(ctx).account();
  },
});
