// Benchmark of the identity stage: a synthetic store of EVENTS web events (default 1,000,000) for
// PERSONS persons (default 100,000), generated in SQL (generate_series, portable arithmetic hashing)
// straight into identifier_observations, with a realistic structure: each person has 1–5 browsers
// (ga_client_id, skewed to 1–2), one event in ten carries a gclid (a few shared between persons),
// one person in three gives an email on some form, 12% log in (user_id), 11% are CRM contacts
// (hubspot_contact_id, email, phone and one of their browsers on the contact record, plus deals),
// and junk: test@test.com on some forms, 150 contacts sharing info@company.example, and contacts
// listing another person's browser (shared devices). About 300,000 identifiers. Times a full run,
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

const dir = mkdtempSync(join(tmpdir(), 'touchpoint-bench-identity-'));
const url = process.argv[2] || `duckdb://${join(dir, 'bench.duckdb')}`;
const EVENTS = Number(process.argv[3] || 1_000_000);
const PERSONS = Number(process.argv[4] || 100_000);

// Multipliers per salt: draws with different salts must not be shifted copies of each other.
const MULTIPLIERS = [2654435761, 2246822519, 3266489917, 668265263, 374761393, 2869860233, 1103515245, 1664525, 22695477, 134775813, 16843009, 3039177861, 1540483477, 2166136261, 4021486793];
/** A pseudo-random number in [0, mod) from i and a salt: the same on DuckDB and PostgreSQL. */
const h = (i: string, salt: number, mod: number) => `(((cast(${i} as bigint) + ${salt * 7919}) * ${MULTIPLIERS[salt]}) % 4294967291) % ${mod}`;
/** Browsers of person p: 1 (50%), 2 (25%), 3, 4 or 5. */
const devices = (p: string) => `case when ${h(p, 1, 100)} < 50 then 1 when ${h(p, 1, 100)} < 75 then 2 when ${h(p, 1, 100)} < 88 then 3 when ${h(p, 1, 100)} < 95 then 4 else 5 end`;
const person = (e: string) => h(e, 2, PERSONS);
const device = (e: string) => `${h(e, 3, 1000)} % ${devices(person(e))}`;
const ga = (p: string, k: string) => `cast(${p} as text) || '.' || cast(${k} as text) || '1700000000'`;
const ts = (e: string) => `cast('2025-01-01' as timestamptz) + (${h(e, 4, 7776000)}) * interval '1 second'`;

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

/** Web events e in [from, to): the browser, plus a gclid, a form email or a login where drawn. */
async function insertEvents(store: Store, runId: string, from: number, to: number): Promise<void> {
  const cols = 'observation_id, identifier_type, identifier_value, source, stream, record_pk, observed_at, run_id';
  const base = `from generate_series(${from}, ${to - 1}) as t(e)`;
  const obs = `'web:events:' || cast(e as text)`;
  const row = (type: string, value: string, where: string) =>
    `insert into identifier_observations (${cols}) select ${obs}, '${type}', ${value}, 'web', 'events', cast(e as text), ${ts('e')}, '${runId}' ${base} where ${where}`;
  await store.knex.raw(row('ga_client_id', ga(person('e'), device('e')), 'true'));
  // One click in ten; one in a thousand reuses one of 300 shared links' gclids (never_alone at work).
  await store.knex.raw(row('gclid', `case when ${h('e', 5, 1000)} = 0 then 'Gshared' || cast(${h('e', 6, 300)} as text) else 'G' || cast(e as text) end`, `${h('e', 7, 10)} = 0`));
  // Forms: one event in 40 of a person who has an email; one form in 200 typed test@test.com.
  await store.knex.raw(
    row('email', `case when ${h('e', 8, 200)} = 0 then 'test@test.com' else 'u' || cast(${person('e')} as text) || '@mail.example' end`, `${h('e', 9, 40)} = 0 and ${h(person('e'), 10, 100)} < 35`),
  );
  await store.knex.raw(row('user_id', `'U' || cast(${person('e')} as text)`, `${h('e', 11, 30)} = 0 and ${h(person('e'), 12, 100)} < 12`));
}

/** CRM contacts (one link observation each) and their deals (events with the contact id). */
async function insertContacts(store: Store, runId: string): Promise<void> {
  const cols = 'observation_id, identifier_type, identifier_value, source, stream, record_pk, observed_at, run_id';
  const base = `from generate_series(0, ${PERSONS - 1}) as t(p) where ${h('p', 13, 100)} < 11`;
  const obs = `'crm:contacts:link:' || cast(p as text)`;
  const row = (type: string, value: string, extra = '') =>
    `insert into identifier_observations (${cols}) select ${obs}, '${type}', ${value}, 'crm', 'contacts', cast(p as text), cast('2025-02-01' as timestamptz), '${runId}' ${base}${extra}`;
  await store.knex.raw(row('hubspot_contact_id', `'H' || cast(p as text)`));
  await store.knex.raw(row('email', `case when p % 431 = 0 and p < 431 * 150 then 'info@company.example' else 'u' || cast(p as text) || '@mail.example' end`));
  await store.knex.raw(row('phone', `'+4860' || lpad(cast(p as text), 7, '0')`));
  await store.knex.raw(row('ga_client_id', ga('p', '0')));
  // One contact in 200 also lists the browser of the next person (a shared family computer).
  await store.knex.raw(row('ga_client_id', ga('p + 1', '0'), ` and ${h('p', 14, 200)} = 0`));
  await store.knex.raw(
    `insert into identifier_observations (${cols}) select 'crm:deals:' || cast(p as text), 'hubspot_contact_id', 'H' || cast(p as text), 'crm', 'deals', cast(p as text), cast('2025-03-01' as timestamptz), '${runId}' ${base}`,
  );
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
    await insertEvents(store, 'bench-load', 0, EVENTS);
    await insertContacts(store, 'bench-load');
  });
  const [{ rows, ids }] = (await store.knex.raw('select count(*) as rows, count(distinct identifier_type || identifier_value) as ids from identifier_observations')).rows;
  console.log(`identifier_observations: ${Number(rows).toLocaleString('en')} rows, ${Number(ids).toLocaleString('en')} distinct identifiers (${store.dialect})`);
  const first = await timed('identity, full (first run)', () => runIdentity(store, { config, runId: 'bench-load' }));
  console.log(`  ${describe(first)}`);
  await startRun(store, 'bench-noop');
  const noop = await timed('identity, incremental, nothing new', () => runIdentity(store, { config, runId: 'bench-noop' }));
  console.log(`  ${describe(noop)}`);
  await startRun(store, 'bench-more');
  await insertEvents(store, 'bench-more', EVENTS, EVENTS + 10_000);
  const more = await timed('identity, incremental, 10,000 new events', () => runIdentity(store, { config, runId: 'bench-more' }));
  console.log(`  ${describe(more)}`);
  await startRun(store, 'bench-full');
  const full = await timed('identity, full recompute (--full-refresh)', () => runIdentity(store, { config, runId: 'bench-full', full: true }));
  console.log(`  ${describe(full)}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
