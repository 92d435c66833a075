// The built-in `ga4-bigquery` connector: the Google Analytics 4 BigQuery event export read through the
// BigQuery API (tables.list, tables.get, tabledata.list), one record per event, mapped to touches,
// conversions and other events with GA4's default channel group. Its pure parts are public for other
// connectors: the export-row parsing and mapping (the `file` connector's `format: ga4-export`) and
// the channel grouping.
import { defineConnector } from '../../core/sdk/index.ts';
import configSchema from './config.schema.json' with { type: 'json' };
import { createBigQueryClient } from './client.ts';
import { datasetOf, streams } from './streams.ts';
import type { Ga4BigQueryConfig } from './streams.ts';

export type { Ga4BigQueryConfig, EventsState } from './streams.ts';
export { eventSchema as ga4EventSchema } from './streams.ts';
export type { GoogleCredentials } from './auth.ts';
export { ga4RecordFromExportRow, ga4EventId, eventParam } from './export-row.ts';
export type { Ga4Record, Ga4Param, Ga4ParamValue } from './export-row.ts';
export { mapGa4Event, DEFAULT_CONVERSION_EVENTS, DEFAULT_TOUCH_EVENTS } from './map.ts';
export type { Ga4MapOptions } from './map.ts';
export { defaultChannelGroup, SOURCE_CATEGORIES } from './channel-group.ts';
export type { Ga4Channel, ChannelInput, SourceCategory } from './channel-group.ts';
export { decodeRow } from './table-data.ts';

export default defineConnector<Ga4BigQueryConfig>({
  name: 'ga4-bigquery',
  version: '0.1.0',
  description: 'Google Analytics 4 BigQuery export (daily and intraday event tables) as touches and conversions with GA4 default channel groups.',
  configSchema,
  streams,
  // One tables.list call proves the credentials, the token URL and read access to the dataset.
  async check(ctx) {
    const client = await createBigQueryClient({
      credentials: ctx.config.credentials,
      target: { projectId: ctx.config.project_id, datasetId: datasetOf(ctx.config) },
      baseUrl: ctx.config.bigquery_url,
      ctx,
    });
    const tables = await client.listTables();
    if (!tables.some((t) => t.startsWith('events_'))) {
      ctx.log.warn(`${ctx.config.project_id}:${datasetOf(ctx.config)} has no events_* tables yet (GA4 writes the first daily table the day after linking)`);
    }
  },
});
