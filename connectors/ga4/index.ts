// The built-in `ga4` connector: daily GA4 KPIs from the Google Analytics Data API (runReport) —
// sessions, key events and revenue by session default channel group, source / medium and campaign —
// kept as raw records for report KPI sections. Aggregates are not journeys and sessions are not
// spend, so the stream has no mapping (README.md). Credentials and Google error handling are shared
// with ga4-bigquery.
import { defineConnector } from '../../core/sdk/index.ts';
import configSchema from './config.schema.json' with { type: 'json' };
import { createDataApiClient } from './client.ts';
import { streams } from './streams.ts';
import type { Ga4Config } from './streams.ts';

export type { Ga4Config, TrafficRecord } from './streams.ts';

export default defineConnector<Ga4Config>({
  name: 'ga4',
  version: '0.1.0',
  description: 'Google Analytics 4 Data API: daily sessions, key events and revenue by channel group, source / medium and campaign.',
  configSchema,
  streams,
  // A one-row report for yesterday proves the credentials, the property access and the API.
  async check(ctx) {
    const client = await createDataApiClient({ credentials: ctx.config.credentials, propertyId: ctx.config.property_id, baseUrl: ctx.config.analytics_data_url, ctx });
    await client.runReport({ dateRanges: [{ startDate: 'yesterday', endDate: 'yesterday' }], metrics: [{ name: ctx.config.sessions_metric ?? 'sessions' }], limit: '1' });
  },
});
