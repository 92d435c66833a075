// Benchmark of the identity stage: the identifier_observations of EVENTS web events (default
// 1,000,000) for PERSONS persons (default 100,000) and their CRM records, generated in SQL with a
// realistic structure (bench/identity-world.ts: about 330,000 identifiers). Times a full run,
// an incremental run with nothing new, and one after 10,000 new events. Prints figures; asserts
// nothing.
//   npm exec -- node bench/identity.ts [store-url] [events] [persons]
//   e.g. npm exec -- node bench/identity.ts postgres://postgres@127.0.0.1:5432/test?schema=tp_bench_identity
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveIdentityConfig } from '../core/identity/config.ts';
import { runIdentity } from '../core/identity/stage.ts';
import type { IdentitySummary } from '../core/identity/stage.ts';
import { openStore } from '../core/store/index.ts';
import type { Store } from '../core/store/types.ts';
import { insertContacts, insertEventIdentifiers } from './identity-world.ts';

const dir = mkdtempSync(join(tmpdir(), 'touchpoint-bench-identity-'));
const url = process.argv[2] || `duckdb://${join(dir, 'bench.duckdb')}`;
const EVENTS = Number(process.argv[3] || 1_000_000);
const PERSONS = Number(process.argv[4] || 100_000);

const world = { persons: PERSONS };

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  console.log(`${label}: ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return result;
}

async function startRun(store: Store, runId: string): Promise<void> {
  await store.startRun({ run_id: runId, pipeline: 'bench' });
  await new Promise((resolve) => setTimeout(resolve, 5));
}

function describe(s: IdentitySummary): string {
  return `mode=${s.mode} identifiers=${s.identifiers} persons=${s.persons} created=${s.created} updated=${s.updated} merged=${s.merged} split=${s.split} unassigned=${s.unassigned} rounds=${s.rounds} rejected=${JSON.stringify(s.rejected)}\n  ms: scope ${s.ms.scope}, stitch ${s.ms.stitch}, person ids ${s.ms.ids}, write ${s.ms.write}`;
}

const store = await openStore({ url });
try {
  await store.migrate();
  const config = resolveIdentityConfig({});
  await startRun(store, 'bench-load');
  await timed(`generate ${EVENTS.toLocaleString('en')} events for ${PERSONS.toLocaleString('en')} persons`, async () => {
    await insertEventIdentifiers(store, world, 'bench-load', 0, EVENTS);
    await insertContacts(store, world, 'bench-load');
  });
  const [{ rows, ids }] = (await store.knex.raw('select count(*) as rows, count(distinct identifier_type || identifier_value) as ids from identifier_observations')).rows;
  console.log(`identifier_observations: ${Number(rows).toLocaleString('en')} rows, ${Number(ids).toLocaleString('en')} distinct identifiers (${store.dialect})`);
  const first = await timed('identity, full (first run)', () => runIdentity(store, { config, runId: 'bench-load' }));
  console.log(`  ${describe(first)}`);
  await startRun(store, 'bench-noop');
  const noop = await timed('identity, incremental, nothing new', () => runIdentity(store, { config, runId: 'bench-noop' }));
  console.log(`  ${describe(noop)}`);
  await startRun(store, 'bench-more');
  await insertEventIdentifiers(store, world, 'bench-more', EVENTS, EVENTS + 10_000);
  const more = await timed('identity, incremental, 10,000 new events', () => runIdentity(store, { config, runId: 'bench-more' }));
  console.log(`  ${describe(more)}`);
  await startRun(store, 'bench-full');
  const full = await timed('identity, full recompute (--full-refresh)', () => runIdentity(store, { config, runId: 'bench-full', full: true }));
  console.log(`  ${describe(full)}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
