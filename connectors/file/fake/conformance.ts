// The conformance harness (`touchpoint connector test file`): no fake server, the recorded fixtures
// in ../fixtures read as a user's pipeline would. No HTTP, so no 401/429/5xx scenarios.
import type { ConformanceHarnessFactory, JsonObject } from '../../../core/sdk/index.ts';

const harness: ConformanceHarnessFactory = async () => ({
  config: {
    streams: [
      {
        name: 'contacts',
        path: 'fixtures/crm/contacts.csv',
        format: 'csv',
        columns: { id: 'integer', email: 'string', phone: 'string', ga_client_id: 'string', updated_at: 'timestamp' },
        primary_key: ['id'],
        maps_to: { link: { identifiers: { hubspot_contact_id: 'id', email: 'email', phone: 'phone', ga_client_id: 'ga_client_id' }, observed_at: 'updated_at' } },
      },
      {
        name: 'ad_spend',
        path: 'fixtures/ads/*.csv',
        format: 'csv',
        columns: { date: 'date', campaign_id: 'string', campaign_name: 'string', cost: 'number', clicks: 'integer', impressions: 'integer', currency: 'string' },
        primary_key: ['date', 'campaign_id'],
        maps_to: { spend: { date: 'date', channel: { const: 'Paid Search' }, campaign_id: 'campaign_id', campaign: 'campaign_name', cost: 'cost', currency: 'currency', clicks: 'clicks', impressions: 'impressions' } },
      },
    ],
  } as JsonObject,
  secrets: [],
  close: async () => {},
});
export default harness;
