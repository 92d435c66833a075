// The built-in `hubspot` connector: CRM contacts, companies, deals, calls, emails and meetings, and
// form submissions, read with @hubspot/api-client over the engine's retrying HTTP, incrementally
// through the CRM search API. See README.md for setup, scopes and limits.
import { defineConnector } from '../../core/sdk/index.ts';
import configSchema from './config.schema.json' with { type: 'json' };
import { createHubSpotClient } from './client.ts';
import { streams } from './streams.ts';
import type { HubSpotConfig } from './streams.ts';

export type { CrmObject, CrmRecord, FormSubmissionRecord, HubSpotConfig } from './streams.ts';
// The fake, for multi-source pipeline tests (a few kB of node:http, loaded with the connector).
export { fixtures, startFake } from './fake/index.ts';

export default defineConnector<HubSpotConfig>({
  name: 'hubspot',
  version: '0.1.0',
  description: 'HubSpot CRM (contacts, companies, deals, calls, emails, meetings) and form submissions: identifier links, deal_won conversions and sales touches.',
  configSchema,
  streams,
  // One contact, one property: proves the token (or the refresh token) and the contacts scope.
  async check(ctx) {
    await createHubSpotClient(ctx).list('contacts', { limit: 1, properties: ['email'], archived: false });
  },
});
