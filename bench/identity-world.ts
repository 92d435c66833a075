// The synthetic world of the identity benchmarks (bench/identity.ts, bench/stitch-journeys.ts),
// generated in SQL (generate_series, portable arithmetic hashing) straight into the store, the same
// on DuckDB and PostgreSQL. EVENTS web events for PERSONS persons with a realistic identity
// structure: each person has 1–5 browsers (ga_client_id, skewed to 1–2), one event in ten carries a
// gclid (a few shared between persons), one person in three gives an email on some form, 12% log in
// (user_id), 11% are CRM contacts (hubspot_contact_id, email, phone and one of their browsers on the
// contact record, plus deals), and junk: test@test.com on some forms, 150 contacts sharing
// info@company.example, and contacts listing another person's browser (shared devices). 1M events
// give about 330,000 identifiers.
import type { Store } from '../core/store/types.ts';

// Multipliers per salt: draws with different salts must not be shifted copies of each other.
const MULTIPLIERS = [2654435761, 2246822519, 3266489917, 668265263, 374761393, 2869860233, 1103515245, 1664525, 22695477, 134775813, 16843009, 3039177861, 1540483477, 2166136261, 4021486793];
/** A pseudo-random number in [0, mod) from i and a salt: the same on DuckDB and PostgreSQL. */
const h = (i: string, salt: number, mod: number) => `(((cast(${i} as bigint) + ${salt * 7919}) * ${MULTIPLIERS[salt]}) % 4294967291) % ${mod}`;
/** Browsers of person p: 1 (50%), 2 (25%), 3, 4 or 5. */
const devices = (p: string) => `case when ${h(p, 1, 100)} < 50 then 1 when ${h(p, 1, 100)} < 75 then 2 when ${h(p, 1, 100)} < 88 then 3 when ${h(p, 1, 100)} < 95 then 4 else 5 end`;
const ga = (p: string, k: string) => `cast(${p} as text) || '.' || cast(${k} as text) || '1700000000'`;
const ts = (e: string) => `cast('2025-01-01' as timestamptz) + (${h(e, 4, 7776000)}) * interval '1 second'`;
const OBSERVATION_COLUMNS = 'observation_id, identifier_type, identifier_value, source, stream, record_pk, observed_at, run_id';
const CHANNELS = ['Paid Search', 'Organic Search', 'Paid Social', 'Organic Social', 'Email', 'Referral', 'Direct', 'Display'];

export interface World {
  persons: number;
}

/** Identifiers of web events e in [from, to): the browser, plus a gclid, a form email or a login where drawn. */
export async function insertEventIdentifiers(store: Store, world: World, runId: string, from: number, to: number): Promise<void> {
  const person = (e: string) => h(e, 2, world.persons);
  const device = (e: string) => `${h(e, 3, 1000)} % ${devices(person(e))}`;
  const base = `from generate_series(${from}, ${to - 1}) as t(e)`;
  const obs = `'web:events:' || cast(e as text)`;
  const row = (type: string, value: string, where: string) =>
    `insert into identifier_observations (${OBSERVATION_COLUMNS}) select ${obs}, '${type}', ${value}, 'web', 'events', cast(e as text), ${ts('e')}, '${runId}' ${base} where ${where}`;
  await store.knex.raw(row('ga_client_id', ga(person('e'), device('e')), 'true'));
  // One click in ten; one in a thousand reuses one of 300 shared links' gclids (never_alone at work).
  await store.knex.raw(row('gclid', `case when ${h('e', 5, 1000)} = 0 then 'Gshared' || cast(${h('e', 6, 300)} as text) else 'G' || cast(e as text) end`, `${h('e', 7, 10)} = 0`));
  // Forms: one event in 40 of a person who has an email; one form in 200 typed test@test.com.
  await store.knex.raw(
    row('email', `case when ${h('e', 8, 200)} = 0 then 'test@test.com' else 'u' || cast(${person('e')} as text) || '@mail.example' end`, `${h('e', 9, 40)} = 0 and ${h(person('e'), 10, 100)} < 35`),
  );
  await store.knex.raw(row('user_id', `'U' || cast(${person('e')} as text)`, `${h('e', 11, 30)} = 0 and ${h(person('e'), 12, 100)} < 12`));
}

/** CRM contacts (one link observation each) and their deals (observations with the contact id). */
export async function insertContacts(store: Store, world: World, runId: string): Promise<void> {
  const base = `from generate_series(0, ${world.persons - 1}) as t(p) where ${h('p', 13, 100)} < 11`;
  const obs = `'crm:contacts:link:' || cast(p as text)`;
  const row = (type: string, value: string, extra = '') =>
    `insert into identifier_observations (${OBSERVATION_COLUMNS}) select ${obs}, '${type}', ${value}, 'crm', 'contacts', cast(p as text), cast('2025-02-01' as timestamptz), '${runId}' ${base}${extra}`;
  await store.knex.raw(row('hubspot_contact_id', `'H' || cast(p as text)`));
  await store.knex.raw(row('email', `case when p % 431 = 0 and p < 431 * 150 then 'info@company.example' else 'u' || cast(p as text) || '@mail.example' end`));
  await store.knex.raw(row('phone', `'+4860' || lpad(cast(p as text), 7, '0')`));
  await store.knex.raw(row('ga_client_id', ga('p', '0')));
  // One contact in 200 also lists the browser of the next person (a shared family computer).
  await store.knex.raw(row('ga_client_id', ga('p + 1', '0'), ` and ${h('p', 14, 200)} = 0`));
  await store.knex.raw(
    `insert into identifier_observations (${OBSERVATION_COLUMNS}) select 'crm:deals:' || cast(p as text), 'hubspot_contact_id', 'H' || cast(p as text), 'crm', 'deals', cast(p as text), cast('2025-03-01' as timestamptz), '${runId}' ${base}`,
  );
}

/**
 * The events behind those observations: web events e in [from, to) (70% with a session id, one in
 * 33 a purchase) and, with `deals`, one closed-won deal per CRM contact (a conversion).
 */
export async function insertEvents(store: Store, world: World, runId: string, from: number, to: number, deals: boolean): Promise<void> {
  const channel = `case (e * 13) % 9 ${CHANNELS.map((c, k) => `when ${k} then '${c}'`).join(' ')} else null end`;
  await store.knex.raw(
    `insert into events (event_id, source, stream, record_pk, occurred_at, kind, name, channel, campaign, value, currency, session_id, device, properties, run_id, loaded_at)
     select 'web:events:' || cast(e as text), 'web', 'events', cast(e as text), ${ts('e')},
       case when ${h('e', 0, 33)} = 0 then 'conversion' when e % 10 = 9 then 'other' else 'touch' end,
       case when ${h('e', 0, 33)} = 0 then 'purchase' when e % 5 = 0 then 'session_start' else 'page_view' end,
       ${channel}, case when e % 4 = 0 then 'spring_sale' end,
       case when ${h('e', 0, 33)} = 0 then 50 + (e % 200) end, case when ${h('e', 0, 33)} = 0 then 'EUR' end,
       case when e % 10 < 7 then 'sess-' || cast(e / 20 as text) end, case when e % 2 = 0 then 'mobile' else 'desktop' end,
       cast('{"page_path":"/"}' as json), '${runId}', now()
     from generate_series(${from}, ${to - 1}) as t(e)`,
  );
  if (!deals) return;
  await store.knex.raw(
    `insert into events (event_id, source, stream, record_pk, occurred_at, kind, name, value, currency, run_id, loaded_at)
     select 'crm:deals:' || cast(p as text), 'crm', 'deals', cast(p as text), cast('2025-03-01' as timestamptz), 'conversion', 'closedwon', 1000, 'EUR', '${runId}', now()
     from generate_series(0, ${world.persons - 1}) as t(p) where ${h('p', 13, 100)} < 11`,
  );
}
