// The declarative runtime against local servers: each pagination style, each auth style (OAuth
// refresh on 401 included), Retry-After through the engine's client, and connector.yaml errors at
// file:line:col.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFake as startLinkedIn, credentials as li } from '../../../connectors/linkedin-ads/fake/server.ts';
import { createTestContext } from '../testing.ts';
import type { JsonObject } from '../types.ts';
import { loadDeclarativeConnector } from './load.ts';
import { nextLink } from './paginate.ts';

type Handler = (req: IncomingMessage, url: URL) => { status?: number; body: unknown; headers?: Record<string, string> };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function serve(handler: Handler): Promise<{ url: string; seen: URL[]; auth: (string | undefined)[] }> {
  const seen: URL[] = [];
  const auth: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push(url);
    auth.push(req.headers.authorization ?? req.headers['x-api-key']?.toString());
    const r = handler(req, url);
    res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
    res.end(JSON.stringify(r.body));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  closers.push(() => new Promise((done) => (server.closeAllConnections(), server.close(() => done()))));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, auth };
}

const ITEMS = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, at: `2025-01-0${i + 1}T00:00:00Z` }));

function connectorFile(extra: string, stream: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-decl-'));
  const file = join(dir, 'connector.yaml');
  writeFileSync(
    file,
    `kind: rest
name: t
version: 0.1.0
sdk_version: 1
config:
  type: object
  properties:
    base_url: { description: root, type: string }
    key: { description: secret, type: string, x-secret: true }
base_url: "{{ config.base_url }}"
${extra}
streams:
  - name: items
    request: { path: /items }
    primary_key: [id]
    columns: { id: { type: integer, required: true }, at: timestamp }
${stream}`,
  );
  return file;
}

async function readAll(file: string, config: JsonObject, state: JsonObject = {}) {
  const c = loadDeclarativeConnector(file);
  const [stream] = (c.streams as (x: JsonObject) => ReturnType<Exclude<typeof c.streams, unknown[]>>)(config);
  const ctx = createTestContext({ config, state, secrets: [String(config.key ?? 'none')] });
  const records: JsonObject[] = [];
  let last: JsonObject | undefined;
  for await (const b of stream.read(ctx)) {
    records.push(...(b.records as JsonObject[]));
    last = b.state ?? last;
  }
  return { ids: records.map((r) => r.id), state: last, ctx };
}

describe('pagination', () => {
  it('cursor: a token in the body sent back as a parameter', async () => {
    const s = await serve((_, u) => {
      const at = Number(u.searchParams.get('after') ?? 0);
      return { body: { data: ITEMS.slice(at, at + 2), meta: { next: at + 2 < 5 ? String(at + 2) : null } } };
    });
    const file = connectorFile('', '    records: data\n    pagination: { type: cursor, cursor_path: meta.next, cursor_param: after }\n');
    expect((await readAll(file, { base_url: s.url })).ids).toEqual([1, 2, 3, 4, 5]);
    expect(s.seen.map((u) => u.searchParams.get('after'))).toEqual([null, '2', '4']);
  });

  it('cursor: a next URL followed while has_more', async () => {
    const s = await serve((req, u) => {
      const at = Number(u.searchParams.get('p') ?? 0);
      const more = at + 2 < 5;
      return { body: { items: ITEMS.slice(at, at + 2), meta: { has_more: more }, links: { next: more ? `http://${req.headers.host}/items?p=${at + 2}` : 'ignored' } } };
    });
    const file = connectorFile('', '    records: items\n    pagination: { type: cursor, next_url_path: links.next, has_more_path: meta.has_more }\n');
    expect((await readAll(file, { base_url: s.url })).ids).toEqual([1, 2, 3, 4, 5]);
  });

  it('offset/limit until a short page or the total', async () => {
    const s = await serve((_, u) => {
      const start = Number(u.searchParams.get('start'));
      return { body: { elements: ITEMS.slice(start, start + Number(u.searchParams.get('count'))), paging: { total: 5 } } };
    });
    const file = connectorFile('', '    records: elements\n    pagination: { type: offset, offset_param: start, limit_param: count, limit: 2, total_path: paging.total }\n');
    expect((await readAll(file, { base_url: s.url })).ids).toEqual([1, 2, 3, 4, 5]);
    expect(s.seen.map((u) => u.searchParams.get('start'))).toEqual(['0', '2', '4']);
  });

  it('page numbers until an empty page', async () => {
    const s = await serve((_, u) => {
      const page = Number(u.searchParams.get('page'));
      return { body: ITEMS.slice((page - 1) * 3, page * 3) };
    });
    const file = connectorFile('', '    records: .\n    pagination: { type: page, page_param: page }\n');
    expect((await readAll(file, { base_url: s.url })).ids).toEqual([1, 2, 3, 4, 5]);
    expect(s.seen.map((u) => u.searchParams.get('page'))).toEqual(['1', '2', '3']);
  });

  it('Link header rel="next"', async () => {
    const s = await serve((req, u) => {
      const page = Number(u.searchParams.get('page') ?? 1);
      const link = page < 3 ? { link: `<http://${req.headers.host}/items?page=${page + 1}>; rel="next", <http://x/last>; rel="last"` } : undefined;
      return { body: ITEMS.slice((page - 1) * 2, page * 2), headers: link };
    });
    const file = connectorFile('', '    records: .\n    pagination: { type: link_header }\n');
    expect((await readAll(file, { base_url: s.url })).ids).toEqual([1, 2, 3, 4, 5]);
    expect(nextLink('<a>; rel="prev", <b>; rel="next"')).toBe('b');
    expect(nextLink('<a>; rel="last"')).toBeUndefined();
  });
});

describe('auth, incremental and retries', () => {
  it('api_key in a header or the query; incremental start with lookback; state = max cursor', async () => {
    const s = await serve((_, u) => ({ body: ITEMS.filter((i) => !u.searchParams.get('since') || i.at >= u.searchParams.get('since')!) }));
    const inc = '    records: .\n    incremental: { cursor_field: at, param: since, lookback: P1D }\n';
    const header = connectorFile('auth: { type: api_key, name: X-Api-Key, value: "{{ config.key }}" }', inc);
    const first = await readAll(header, { base_url: s.url, key: 'k-123456' });
    expect(first.state).toEqual({ cursor: '2025-01-05T00:00:00.000Z' });
    expect(s.auth[0]).toBe('k-123456');
    const second = await readAll(header, { base_url: s.url, key: 'k-123456' }, first.state);
    expect(s.seen.at(-1)!.searchParams.get('since')).toBe('2025-01-04T00:00:00.000Z');
    expect(second.ids).toEqual([4, 5]);
    const query = connectorFile('auth: { type: api_key, in: query, name: api_key, value: "{{ config.key }}" }', '    records: .\n');
    await readAll(query, { base_url: s.url, key: 'k-123456' });
    expect(s.seen.at(-1)!.searchParams.get('api_key')).toBe('k-123456');
  });

  it('bearer and basic', async () => {
    const s = await serve(() => ({ body: ITEMS }));
    await readAll(connectorFile('auth: { type: bearer, token: "{{ config.key }}" }', '    records: .\n'), { base_url: s.url, key: 'tok-1234' });
    await readAll(connectorFile('auth: { type: basic, username: me, password: "{{ config.key }}" }', '    records: .\n'), { base_url: s.url, key: 'tok-1234' });
    expect(s.auth).toEqual(['Bearer tok-1234', `Basic ${Buffer.from('me:tok-1234').toString('base64')}`]);
  });

  it('OAuth refresh: a token on the first call, a new one once after a 401', async () => {
    const fake = await startLinkedIn();
    closers.push(() => fake.close());
    const c = loadDeclarativeConnector(join(import.meta.dirname, '../../../connectors/linkedin-ads/connector.yaml'));
    const config = { ...li, start_date: '2025-01-01', base_url: fake.url, token_url: fake.tokenUrl };
    const [stream] = (c.streams as (x: JsonObject) => ReturnType<Exclude<typeof c.streams, unknown[]>>)(config);
    const read = async () => {
      const ctx = createTestContext({ config, secrets: [li.client_secret, li.refresh_token] });
      let n = 0;
      for await (const b of stream.read(ctx)) n += b.records.length;
      return n;
    };
    expect(await read()).toBe(14);
    expect(fake.tokensIssued).toBe(1);
    fake.fail({ status: 401, times: 1 });
    expect(await read()).toBe(14);
    expect(fake.tokensIssued).toBe(3);
  });

  it('waits for Retry-After and retries 5xx through the engine client', async () => {
    let calls = 0;
    const s = await serve(() => (++calls === 1 ? { status: 429, body: {}, headers: { 'retry-after': '7' } } : calls === 2 ? { status: 502, body: {} } : { body: ITEMS }));
    const { ids, ctx } = await readAll(connectorFile('', '    records: .\n'), { base_url: s.url });
    expect(ids).toHaveLength(5);
    expect(ctx.sleeps[0]).toBe(7000);
    expect(ctx.sleeps).toHaveLength(2);
  });
});

describe('connector.yaml errors', () => {
  it('names file:line:col for schema errors and for rules the schema cannot say', () => {
    const file = connectorFile('auth: { type: bearer }', '    records: .\n    pagination: { type: cursor }\n    incremental: { cursor_field: updated, param: since }\n');
    let message = '';
    try {
      loadDeclarativeConnector(file);
    } catch (error) {
      message = (error as { format(): string }).format();
    }
    expect(message.split('\n')).toEqual([
      `${file}:11:7 auth: missing required key "token"`,
      `${file}:18:5 streams[0].pagination: cursor pagination needs next_url_path, or cursor_path with cursor_param`,
      expect.stringContaining('hint: next_url_path: links.next'),
      `${file}:19:20 streams[0].incremental.cursor_field: cursor_field updated is not a declared column`,
      '  hint: declared columns: id, at',
    ]);
  });
});
