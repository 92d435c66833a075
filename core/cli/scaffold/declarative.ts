// The files of a scaffolded YAML-only connector: connector.yaml for the same fake contacts API the
// TypeScript scaffold reads, and a test that loads the YAML and reads the fake through the engine's
// declarative runtime. Templates as strings.
import { SDK_VERSION } from '../../sdk/types.ts';

export function declarativeFiles(name: string): Record<string, string> {
  return {
    'connector.yaml': `# The ${name} connector, described in YAML alone: see docs/connectors.md ("A YAML-only connector")
# and core/sdk/declarative/declarative.schema.json for every key.
kind: rest
name: ${name}
version: 0.1.0
sdk_version: ${SDK_VERSION}
description: Contacts from the ${name} API as identifier links and signup touches.
config:
  type: object
  additionalProperties: false
  required: [api_token]
  properties:
    api_token:
      description: API token of the ${name} account; keep it in the environment.
      type: string
      x-secret: true
    base_url:
      description: API root (a test points it at the fake).
      type: string
      default: https://api.${name}.example.com
base_url: "{{ config.base_url }}"
auth:
  type: bearer
  token: "{{ config.api_token }}"
rate_limit:
  requests_per_second: 10
streams:
  - name: contacts
    description: Contacts, re-read when updated.
    request:
      path: /v1/contacts
      query: { limit: 2 }
    records: data
    pagination:
      type: cursor
      cursor_path: next_cursor
      cursor_param: cursor
    primary_key: [id]
    incremental:
      cursor_field: updated_at
      param: updated_since
      lookback: PT1H
    columns:
      id: { type: string, required: true }
      email: string
      name: string
      created_at: { type: timestamp, required: true }
      updated_at: { type: timestamp, required: true }
    maps_to:
      link:
        identifiers: { ${name.replaceAll('-', '_')}_contact_id: id, email: email }
        observed_at: updated_at
      event:
        id: id
        occurred_at: created_at
        kind: touch
        name: { const: signup }
        identifiers: { ${name.replaceAll('-', '_')}_contact_id: id, email: email }
`,
    [`${name}.test.ts`]: `// The YAML connector against its local fake, through the engine's declarative runtime: paging,
// incremental state, the mapping, and a 429 with Retry-After.
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createTestContext, loadDeclarativeConnector } from 'touchpoint/sdk';
import type { JsonObject } from 'touchpoint/sdk';
import { TOKEN, startFake } from './fake/server.ts';
import type { Fake } from './fake/server.ts';

const connector = loadDeclarativeConnector(fileURLToPath(new URL('./connector.yaml', import.meta.url)));
let fake: Fake;
beforeEach(async () => {
  fake = await startFake();
});
afterEach(() => fake.close());

async function read(state: JsonObject = {}) {
  const config = { api_token: TOKEN, base_url: fake.url };
  const [contacts] = typeof connector.streams === 'function' ? connector.streams(config) : connector.streams;
  const ctx = createTestContext({ config, state, secrets: [TOKEN] });
  const records: JsonObject[] = [];
  let last: JsonObject | undefined;
  for await (const b of contacts.read(ctx)) {
    records.push(...(b.records as JsonObject[]));
    last = b.state ?? last;
  }
  return { records, state: last ?? {}, ctx, contacts };
}

it('reads every page and commits the newest updated_at', async () => {
  const { records, state } = await read();
  expect(records).toHaveLength(5);
  expect(state).toEqual({ cursor: '2025-01-09T07:15:00.000Z' });
});

it('a second run reads only what changed (inside the lookback)', async () => {
  const { state } = await read();
  expect((await read(state)).records.map((r) => r.id)).toEqual(['5']);
});

it('maps a contact to a link and a signup touch', async () => {
  const { records, contacts } = await read();
  const rows = contacts.map!(records[0], { source: 's', stream: 'contacts', config: {} });
  expect(rows.events?.[0]).toMatchObject({ id: '1', kind: 'touch', name: 'signup' });
});

it('waits out a 429 with Retry-After', async () => {
  fake.fail({ status: 429, headers: { 'retry-after': '3' }, times: 1 });
  const { records, ctx } = await read();
  expect(records).toHaveLength(5);
  expect(ctx.sleeps).toContain(3000);
});
`,
  };
}
