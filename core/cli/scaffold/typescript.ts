// The files of a scaffolded TypeScript connector, the same shape as the built-in ones (STYLE.md §2):
// index.ts, config.schema.json, streams.ts, map.ts, client.ts, README.md, fake/, a test, and a
// package.json that publishes it as `touchpoint-connector-<name>`. Templates as strings.
import { SDK_VERSION } from '../../sdk/types.ts';

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/^./, (c) => c.toUpperCase());
const snake = (name: string) => name.replaceAll('-', '_');

export function typescriptFiles(name: string): Record<string, string> {
  const Type = `${camel(name)}Config`;
  return {
    'index.ts': `// The ${name} connector: contacts from the ${name} API as identifier links and signup touches.
// See README.md for setup and limits, docs/connectors.md in Touchpoint for the contract.
import { defineConnector } from 'touchpoint/sdk';
import configSchema from './config.schema.json' with { type: 'json' };
import { createClient } from './client.ts';
import { streams } from './streams.ts';
import type { ${Type} } from './streams.ts';

export default defineConnector<${Type}>({
  name: '${name}',
  version: '0.1.0',
  // The SDK contract this was written for: an engine with another one refuses to load it, clearly.
  sdkVersion: ${SDK_VERSION},
  description: 'Contacts from the ${name} API: identifier links and signup touches.',
  configSchema,
  streams,
  async check(ctx) {
    await createClient(ctx).contacts({ limit: 1 });
  },
});
`,
    'config.schema.json': `${JSON.stringify(
      {
        $id: `https://touchpoint.dev/schemas/connectors/${name}.json`,
        title: `${name} connector config`,
        type: 'object',
        additionalProperties: false,
        required: ['api_token'],
        properties: {
          api_token: { description: `API token of the ${name} account; keep it in the environment (\${env:${snake(name).toUpperCase()}_TOKEN}).`, type: 'string', 'x-secret': true },
          base_url: { description: 'API root (a test points it at the fake).', type: 'string', default: `https://api.${name}.example.com` },
          page_size: { description: 'Contacts per request (1-100, default 100).', type: 'integer', minimum: 1, maximum: 100 },
        },
      },
      null,
      2,
    )}\n`,
    'client.ts': `// The only file that talks HTTP: the engine's client (retry, backoff, Retry-After, timeouts and
// errors that name the request) with this API's root and auth header.
import type { HttpClient, ReadContext } from 'touchpoint/sdk';
import type { Contact, ${Type} } from './streams.ts';

export interface ContactsPage {
  data: Contact[];
  next_cursor: string | null;
}

export function createClient(ctx: Pick<ReadContext<${Type}>, 'http' | 'config'>) {
  const http: HttpClient = ctx.http.extend({
    baseUrl: ctx.config.base_url ?? 'https://api.${name}.example.com',
    headers: { authorization: \`Bearer \${ctx.config.api_token}\` },
  });
  return {
    async contacts(q: { updatedSince?: string; cursor?: string; limit: number }): Promise<ContactsPage> {
      const res = await http.get<ContactsPage>('/v1/contacts', { updated_since: q.updatedSince, cursor: q.cursor, limit: q.limit });
      return res.body;
    },
  };
}
`,
    'streams.ts': `// The streams: contacts, incremental by updated_at. Every page is a batch; the cursor is committed
// with the last page, so an interrupted run re-reads from the last committed one (upserts by id).
import { advance, defineStream, startFrom } from 'touchpoint/sdk';
import type { JsonObject, RecordBatch, StreamDefinition } from 'touchpoint/sdk';
import { createClient } from './client.ts';
import { mapContact } from './map.ts';

export interface ${Type} {
  api_token: string;
  base_url?: string;
  page_size?: number;
}

export interface Contact {
  id: string;
  email: string | null;
  name: string | null;
  created_at: string;
  updated_at: string;
}

const cursor = { field: 'updated_at', lookback: 'PT1H' };

export const streams: StreamDefinition<${Type}, any>[] = [
  defineStream<${Type}, Contact>({
    name: 'contacts',
    description: 'Contacts, re-read when updated.',
    primaryKey: ['id'],
    cursor,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'created_at', 'updated_at'],
      properties: {
        id: { type: 'string', minLength: 1 },
        email: { type: ['string', 'null'] },
        name: { type: ['string', 'null'] },
        created_at: { type: 'string', format: 'date-time' },
        updated_at: { type: 'string', format: 'date-time' },
      },
    },
    async *read(ctx): AsyncGenerator<RecordBatch<Contact>> {
      const client = createClient(ctx);
      const from = startFrom({ state: ctx.state, cursor, options: ctx.options, fullRefresh: ctx.fullRefresh });
      let state = ctx.fullRefresh ? {} : ctx.state;
      let next: string | undefined;
      do {
        const page = await client.contacts({ updatedSince: from === undefined ? undefined : String(from), cursor: next, limit: ctx.config.page_size ?? 100 });
        for (const c of page.data) state = advance(state, c.updated_at);
        next = page.next_cursor ?? undefined;
        yield { records: page.data, state: next ? undefined : (state as JsonObject) };
      } while (next);
    },
    map: mapContact,
  }),
];
`,
    'map.ts': `// Pure: one contact → canonical rows (an identifier link and a signup touch).
import type { CanonicalRows } from 'touchpoint/sdk';
import type { Contact } from './streams.ts';

export function mapContact(c: Contact): CanonicalRows {
  const identifiers = [{ type: '${snake(name)}_contact_id', value: c.id }, ...(c.email ? [{ type: 'email', value: c.email }] : [])];
  return {
    links: [{ identifiers, observed_at: c.updated_at }],
    events: [{ id: c.id, occurred_at: c.created_at, kind: 'touch', name: 'signup', channel: '${camel(name)}', identifiers }],
  };
}
`,
    [`${name}.test.ts`]: `// The connector against its local fake, through the engine's real HTTP client: paging, incremental
// state, the mapping, and a 429 with Retry-After.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createRecordValidator, createTestContext } from 'touchpoint/sdk';
import type { JsonObject, StreamDefinition } from 'touchpoint/sdk';
import { TOKEN, startFake } from './fake/server.ts';
import type { Fake } from './fake/server.ts';
import connector from './index.ts';
import type { ${Type} } from './streams.ts';

let fake: Fake;
beforeEach(async () => {
  fake = await startFake();
});
afterEach(() => fake.close());

const contacts = (connector.streams as StreamDefinition<${Type}, any>[])[0];

async function read(state: JsonObject = {}, pageSize = 2) {
  const ctx = createTestContext<${Type}>({ config: { api_token: TOKEN, base_url: fake.url, page_size: pageSize }, state, secrets: [TOKEN] });
  const records: JsonObject[] = [];
  let last: JsonObject | undefined;
  for await (const b of contacts.read(ctx)) {
    records.push(...(b.records as JsonObject[]));
    last = b.state ?? last;
  }
  return { records, state: last ?? {}, ctx };
}

it('reads every page, valid records, and commits the newest updated_at', async () => {
  const { records, state } = await read();
  expect(records).toHaveLength(5);
  const validate = createRecordValidator(contacts.schema);
  expect(records.map(validate).filter(Boolean)).toEqual([]);
  expect(state).toEqual({ cursor: '2025-01-09T07:15:00Z' });
});

it('a second run reads only what changed (inside the lookback)', async () => {
  const { state } = await read();
  const again = await read(state);
  expect(again.records.map((r) => r.id)).toEqual(['5']);
});

it('maps a contact to a link and a signup touch', () => {
  const rows = contacts.map!(fake.contacts[0], { source: 's', stream: 'contacts', config: { api_token: TOKEN } });
  expect(rows.events?.[0]).toMatchObject({ id: '1', kind: 'touch', name: 'signup' });
  expect(rows.links?.[0].identifiers).toContainEqual({ type: 'email', value: 'ada@example.com' });
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
