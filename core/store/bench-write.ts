// Bulk-write benchmark of Store.writeBatch: N synthetic records (~190 bytes of JSON each), each
// with one event, written in batches of 5000 — a first load into an empty store, then the same
// records again (every record replaced). SHAPE=events: events carry no identifiers; SHAPE=identity
// (default): one identifier each (one identifier_observations row); SHAPE=links: also a link of two
// identifiers per record. Prints records/s; asserts nothing.
//   npm exec -- node core/store/bench-write.ts [url] [records]
//   e.g. npm exec -- node core/store/bench-write.ts postgres://postgres@127.0.0.1:5432/test?schema=tp_bench 200000
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, parseStoreUrl } from './index.ts';
import type { BatchWrite } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'touchpoint-bench-'));
const url = process.argv[2] || `duckdb://${join(dir, 'bench.duckdb')}`;
const total = Number(process.argv[3] || 200_000);
const size = 5_000;
const shape = process.env.SHAPE ?? 'identity';

function makeBatch(offset: number, runId: string): BatchWrite {
  const b: BatchWrite = { runId, pipeline: 'bench', source: 'ga4', stream: 'events', raw: [], events: [], links: [], spend: [], quarantine: [] };
  for (let i = offset; i < offset + size; i++) {
    const pk = `rec-${i}`;
    const at = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
    b.raw.push({ pk, cursor: at, record: { id: pk, event_name: 'page_view', event_timestamp: at, user_pseudo_id: `cid-${i % 50_000}`, page: { path: `/p/${i % 300}`, title: 'Pricing' }, engagement_ms: i % 9000 } });
    b.events.push({
      event_id: `ga4:events:${pk}`, record_pk: pk, id: pk, occurred_at: at, kind: 'touch', name: 'page_view', channel: 'organic_search',
      source_medium: 'google / organic', campaign_id: null, campaign: null, value: (i % 100) / 10, currency: 'EUR', session_id: `s-${i % 20_000}`,
      device: 'mobile', identifiers: shape === 'events' ? [] : [{ type: 'ga_client_id', value: `cid-${i % 50_000}` }], properties: { page_path: `/p/${i % 300}` },
    });
    if (shape === 'links') b.links.push({ id: pk, record_pk: pk, identifiers: [{ type: 'ga_client_id', value: `cid-${i % 50_000}` }, { type: 'user_id', value: `u-${i % 9_000}` }] });
  }
  b.state = { cursor: b.raw.at(-1)!.cursor! };
  return b;
}

const parsed = parseStoreUrl(url);
// On PostgreSQL the benchmark owns a schema of its own, dropped before and after.
const schema = parsed.dialect === 'postgres' ? parsed.schema : undefined;
if (parsed.dialect === 'postgres' && !schema) throw new Error('give the PostgreSQL URL a ?schema=<scratch schema> (it is dropped)');
const store = await openStore({ url });
try {
  if (schema) await store.knex.raw('drop schema if exists ?? cascade', [schema]);
  await store.migrate();
  for (const pass of ['first load', 'reload (every record replaced)']) {
    const batches = Array.from({ length: Math.ceil(total / size) }, (_, k) => makeBatch(k * size, pass));
    const started = performance.now();
    for (const b of batches) await store.writeBatch(b);
    const seconds = (performance.now() - started) / 1000;
    console.log(`${store.dialect} ${shape} ${pass}: ${total} records in ${seconds.toFixed(2)} s = ${Math.round(total / seconds).toLocaleString('en')} records/s`);
  }
  console.log(await store.counts());
} finally {
  if (schema) await store.knex.raw('drop schema if exists ?? cascade', [schema]);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
