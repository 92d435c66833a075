// The native load (native.ts) against the read path, on real DuckDB files: the same pipeline is run
// with DuckDB's readers and with record-by-record reading (`native: false`), and every stored table
// must come out identical — raw records (key and JSON text), events, identifier observations,
// spend, quarantine (reasons and records) and stream state. Also: the SQL coercions against
// columns.ts value by value, incremental runs, changed files, alternating paths, corrupt rows, and
// the fallbacks (a mapping SQL cannot express, phones, values SQL may read differently).
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemo } from '../../bench/generator/demo.ts';
import { loadPipeline } from '../../core/config/pipeline.ts';
import { extractAll } from '../../core/engine/extract.ts';
import { newRunId, planStreams, registryFor, retryPolicy } from '../../core/engine/run.ts';
import { createLogger } from '../../core/sdk/log.ts';
import { openStore } from '../../core/store/index.ts';
import { createPgSchema, describeOnPostgres } from '../../core/store/test-support.ts';
import type { Store } from '../../core/store/types.ts';
import { COLUMN_TYPES, coerce, INVALID } from './columns.ts';
import { coerceSql, jsNumber, presentSql, settle } from './sql-values.ts';

const here = dirname(fileURLToPath(import.meta.url));
let dir: string;
const open: Store[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'touchpoint-native-'));
});
afterAll(async () => {
  for (const s of open) await s.close();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  lines: string[];
  streams: { name: string; records: number; quarantined: number; status: string; error?: string }[];
}

/** A pipeline with the file connector over `data` (a folder), stored in `db`. */
async function pipeline(name: string, sources: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `version: 1\nname: ${name}\nsources:\n${sources}`);
  return file;
}

async function storeAt(db: string): Promise<Store> {
  const store = await openStore({ url: `duckdb://${join(dir, db)}` });
  open.push(store);
  await store.migrate();
  return store;
}

async function run(file: string, store: Store, native: boolean): Promise<Run> {
  const lines: string[] = [];
  const log = createLogger({ secrets: [], level: 'debug', write: (line) => void lines.push(line) });
  const loaded = loadPipeline(file, { env: {} });
  const plan = await planStreams(loaded, registryFor(loaded));
  const streams = await extractAll(plan, { store, pipeline: loaded, runId: newRunId(), log, signal: new AbortController().signal, retry: retryPolicy(loaded), native }, 1);
  return { lines, streams: streams.map((s) => ({ name: `${s.source}/${s.stream}`, records: s.records, quarantined: s.quarantined, status: s.status, error: s.error })) };
}

/** Everything a load stores, sorted, without run ids and load times. */
async function dump(store: Store): Promise<Record<string, unknown[]>> {
  const q = async (sql: string) => (await store.knex.raw(sql)).rows as unknown[];
  const out: Record<string, unknown[]> = {};
  const raws = ((await q(`select table_name from information_schema.tables where table_name like 'raw%' order by 1`)) as { table_name: string }[]).map((r) => r.table_name);
  for (const t of raws) out[t] = await q(`select _pk, _cursor, _record::varchar as record from "${t}" order by _pk`);
  out.events = await q(`select * exclude (run_id, loaded_at, properties), properties::varchar as properties from events order by event_id`);
  out.observations = await q(`select * exclude (run_id) from identifier_observations order by observation_id, identifier_type, identifier_value`);
  out.spend = await q(`select * exclude (run_id) from spend order by spend_id`);
  out.quarantine = await q(`select source, stream, record_hash, reason, record::varchar as record from quarantine order by source, stream, record_hash`);
  out.state = await q(`select source, stream, state::varchar as state from stream_state order by source, stream`);
  return out;
}

const natively = (r: Run, stream: string) => r.lines.some((l) => l.includes('natively') && l.includes(`stream=${stream}`));
const fellBack = (r: Run, stream: string) => r.lines.find((l) => l.includes('record by record') && l.includes(`stream=${stream}`));

/** Runs the pipeline both ways into two stores; returns both runs and stores. */
async function both(name: string, file: string) {
  const nStore = await storeAt(`${name}-native.duckdb`);
  const jStore = await storeAt(`${name}-js.duckdb`);
  return { nStore, jStore, native: await run(file, nStore, true), js: await run(file, jStore, false) };
}

describe('native load: the same rows as the read path', () => {
  let data: string;
  beforeAll(async () => {
    data = join(dir, 'fixtures');
    await cp(join(here, 'fixtures'), data, { recursive: true });
  });

  it('loads the demo world identically (300 people), and a second run reads nothing', { timeout: 120_000 }, async () => {
    const world = join(dir, 'demo');
    await generateDemo({ out: world, people: 300, seed: 7 });
    const yaml = (await readFile(join(here, '../../pipelines/demo.yaml'), 'utf8')).replaceAll('../data/demo/', `${world}/`);
    const file = join(dir, 'demo.yaml');
    await writeFile(file, yaml);
    const { nStore, jStore, native, js } = await both('demo', file);
    expect(native.streams).toEqual(js.streams);
    expect(native.streams.every((s) => s.status === 'done')).toBe(true);
    for (const s of ['events', 'deals', 'activities', 'google_ads', 'meta_ads', 'responses']) expect(natively(native, s), s).toBe(true);
    // Contacts carry phone numbers: libphonenumber, so the read path.
    expect(fellBack(native, 'contacts')).toContain('identifiers of type phone');
    const tables = await dump(nStore);
    expect(tables.events.length).toBeGreaterThan(3000);
    expect(tables).toEqual(await dump(jStore));

    const again = await run(file, nStore, true);
    expect(again.streams.filter((s) => s.name !== 'crm/contacts').map((s) => s.records)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(await dump(nStore)).toEqual(tables);
  });

  const sources = (folder: string) => `
  - name: web
    connector: file
    config:
      streams:
        - name: events
          path: ${folder}/web/*.ndjson
          format: ndjson
          columns:
            event_id: string
            ts: { type: timestamp, required: true }
            event_name: string
            client_id: string
            user_id: string
            email: string
            session_id: string
            utm_source: string
            utm_medium: string
            utm_campaign: string
            campaign_id: string
            gclid: string
            page_path: { type: string, from: page.path }
            device: string
            revenue: number
            currency: string
          primary_key: [event_id]
          maps_to:
            event:
              occurred_at: ts
              kind: { when: { column: event_name, in: [purchase] }, then: conversion, else: touch }
              name: event_name
              channel:
                cases:
                  - { when: { column: utm_medium, in: [cpc, ppc] }, then: Paid Search }
                  - { when: { column: utm_medium, equals: email }, then: Email }
                else: Direct
              source_medium: { template: "{utm_source} / {utm_medium}", default: (direct) / (none) }
              campaign_id: campaign_id
              campaign: utm_campaign
              value: revenue
              currency: { column: currency, default: EUR }
              session_id: session_id
              device: device
              identifiers: { ga_client_id: client_id, user_id: user_id, email: email, gclid: gclid }
              properties: [page_path]
  - name: crm
    connector: file
    config:
      streams:
        - name: deals
          path: ${folder}/crm/deals.csv
          format: csv
          csv: { delimiter: ";" }
          columns: { deal_id: string, contact_id: string, amount: number, currency: string, stage: string, created_at: timestamp, close_date: date }
          primary_key: [deal_id]
          maps_to:
            event:
              occurred_at: { when: { column: stage, in: [closedwon, closedlost] }, then: { column: close_date }, else: { column: created_at } }
              kind: { when: { column: stage, in: [closedwon] }, then: conversion, else: other }
              name: { column: stage, map: { closedwon: deal_won, closedlost: deal_lost }, default: deal_open }
              value: { when: { column: stage, equals: closedwon }, then: { column: amount } }
              currency: currency
              identifiers: { hubspot_contact_id: contact_id }
              properties:
                stage: stage
                won: { when: { all: [{ column: stage, equals: closedwon }, { column: amount, gt: 1000 }] }, then: big, else: "no" }
        - name: contacts
          path: ${folder}/crm/contacts.csv
          format: csv
          columns: { id: integer, email: string, phone: string, ga_client_id: string, notes: string, updated_at: timestamp }
          primary_key: [id]
          incremental: { mode: cursor, column: updated_at, lookback: P1D }
          maps_to:
            link:
              identifiers: { hubspot_contact_id: id, email: email, ga_client_id: ga_client_id }
              observed_at: updated_at
            event:
              when: { column: notes, present: true }
              occurred_at: updated_at
              kind: other
              name: { template: "note {id}" }
              properties: { notes: notes, id: id }
  - name: ads
    connector: file
    config:
      streams:
        - name: google_ads
          path: ${folder}/ads/google-ads.csv
          format: csv
          columns: { date: date, campaign_id: integer, campaign_name: string, cost: number, clicks: integer, impressions: integer, currency: string }
          primary_key: [date, campaign_id]
          maps_to:
            spend: { date: date, channel: { const: Paid Search }, campaign_id: campaign_id, campaign: campaign_name, cost: cost, currency: currency, clicks: clicks, impressions: impressions }
`;

  it('quarantines corrupt rows for the same reasons (file:line), and stores the same rows, from the fixtures', async () => {
    const file = await pipeline('fixtures', sources(data));
    const { nStore, jStore, native, js } = await both('fixtures', file);
    expect(native.streams).toEqual(js.streams);
    for (const s of ['events', 'deals', 'contacts', 'google_ads']) expect(natively(native, s), `${s}: ${native.lines.filter((l) => l.includes(`stream=${s}`)).join('\n')}`).toBe(true);
    const tables = await dump(nStore);
    expect(tables.quarantine.map((q) => (q as { reason: string }).reason).sort()).toEqual([
      'contacts.csv:5: expected 6 fields, got 4',
      'contacts.csv:6: column updated_at: "not-a-date" is not a valid timestamp',
      'contacts.csv:8: unexpected "x" after a closing quote in field 2',
      'deals.csv:4: column amount: "12,5" is not a valid number',
      `2024-01-01.ndjson:3: not valid JSON (Unexpected token 'o', "not json" is not valid JSON)`,
      '2024-01-01.ndjson:5: column ts: "yesterday" is not a valid timestamp',
      '2024-01-01.ndjson:6: not a JSON object',
    ].sort());
    expect(tables).toEqual(await dump(jStore));
  });

  it('reads a changed file again, and the two paths can take turns across runs', async () => {
    const own = join(dir, 'turns');
    await cp(join(here, 'fixtures'), own, { recursive: true });
    const file = await pipeline('turns', sources(own));
    const a = await storeAt('turns-a.duckdb');
    const b = await storeAt('turns-b.duckdb');
    await run(file, a, true);
    await run(file, b, false);
    await appendFile(
      join(own, 'web/2024-01-02.ndjson'),
      '{"event_id":"e8","ts":"2024-01-02T09:00:00Z","event_name":"purchase","client_id":"c3","revenue":"10","email":"not-an-email"}\n{"event_id":"e6","ts":"2024-01-02T08:00:00Z","event_name":"session_start","client_id":"c9"}\n',
    );
    await appendFile(join(own, 'crm/contacts.csv'), '8,gina@example.com,,c8,,2024-01-09T12:00:00Z\n');
    // a: native then the read path; b: the read path then native.
    const second = [await run(file, a, false), await run(file, b, true)];
    expect(second[0].streams).toEqual(second[1].streams);
    expect(second[1].streams.find((s) => s.name === 'web/events')?.records).toBe(4); // 2024-01-02.ndjson again
    // Normalisation drops the invalid email on both paths, and both report it.
    const dropped = (r: Run) => r.lines.find((l) => l.includes('identifiers dropped'))?.replace(/^\S+ /, '');
    expect(dropped(second[1])).toContain('email: invalid_email=1');
    expect(dropped(second[1])).toEqual(dropped(second[0]));
    expect(await dump(a)).toEqual(await dump(b));
    const third = [await run(file, a, true), await run(file, b, false)];
    expect(third[0].streams).toEqual(third[1].streams);
    expect(third[0].streams.map((s) => s.records)).toEqual([0, 0, 1, 0]); // contacts again within the cursor's lookback
    expect(await dump(a)).toEqual(await dump(b));
  });

  it('resumes where an interrupted read-path run stopped, and fully refreshes, as the read path does', async () => {
    const own = join(dir, 'resume');
    await cp(join(here, 'fixtures'), own, { recursive: true });
    const file = await pipeline('resume', sources(own));
    const stores = [await storeAt('resume-a.duckdb'), await storeAt('resume-b.duckdb')];
    for (const store of stores) {
      await run(file, store, false);
      // As if the read path had stopped after line 1 of the second web file.
      const state = (await store.getState('resume', 'web', 'events')) as { files: Record<string, unknown> };
      const current = { file: '2024-01-02.ndjson', line: 1, fingerprint: state.files['2024-01-02.ndjson'] };
      const files = { '2024-01-01.ndjson': state.files['2024-01-01.ndjson'] };
      await store.knex('stream_state').where({ pipeline: 'resume', source: 'web', stream: 'events' }).update({ state: JSON.stringify({ mode: 'files', files, current }) });
      await store.knex('events').where('event_id', 'web:events:e7').delete();
    }
    const resumed = [await run(file, stores[0], true), await run(file, stores[1], false)];
    expect(resumed[0].streams.find((s) => s.name === 'web/events')?.records).toBe(2); // the whole file: upserts make that harmless
    expect(resumed[1].streams.find((s) => s.name === 'web/events')?.records).toBe(1);
    expect(await dump(stores[0])).toEqual(await dump(stores[1]));

    const refresh = async (store: Store, native: boolean) => {
      const loaded = loadPipeline(file, { env: {} });
      const log = createLogger({ secrets: [], level: 'error', write: () => {} });
      const common = { store, pipeline: loaded, log, signal: new AbortController().signal, retry: retryPolicy(loaded), native, fullRefresh: true };
      return extractAll(await planStreams(loaded, registryFor(loaded)), { ...common, runId: newRunId() }, 1);
    };
    await rm(join(own, 'web/2024-01-02.ndjson'));
    const refreshed = [await refresh(stores[0], true), await refresh(stores[1], false)];
    expect(refreshed[0].map((s) => s.records)).toEqual(refreshed[1].map((s) => s.records));
    const tables = await dump(stores[0]);
    expect((tables.raw_web_events as { _pk: string }[]).map((r) => r._pk)).toEqual(['e1', 'e2', 'e3', 'e5']);
    expect(tables).toEqual(await dump(stores[1]));
  });

  it('hands over CSV files whose rows DuckDB would cut differently', async () => {
    const own = join(dir, 'csv');
    await cp(join(here, 'fixtures/ads'), join(own, 'a'), { recursive: true });
    await cp(join(here, 'fixtures/ads'), join(own, 'b'), { recursive: true });
    // DuckDB reads ` "Brand"` as a quoted field; RFC 4180 (the read path) as text with quotes.
    await appendFile(join(own, 'a/google-ads.csv'), '2024-01-03,111, "Brand",1,1,1,EUR\n');
    // One column: DuckDB reads an empty line as a row, the read path skips it.
    await writeFile(join(own, 'b/ids.csv'), 'id\n1\n\n2\n');
    const file = await pipeline('csv', `
  - name: ads
    connector: file
    config:
      streams:
        - name: google_ads
          path: ${own}/a/google-ads.csv
          format: csv
          columns: { date: date, campaign_id: integer, campaign_name: string, cost: number, clicks: integer, impressions: integer, currency: string }
          primary_key: [date, campaign_id]
        - name: ids
          path: ${own}/b/ids.csv
          format: csv
          columns: { id: string }
          primary_key: [id]
`);
    const { nStore, jStore, native } = await both('csv', file);
    expect(native.lines.some((l) => l.includes('spaces around quoted fields'))).toBe(true);
    expect(native.lines.some((l) => l.includes('ids.csv has 1 value(s) that SQL might read differently'))).toBe(true);
    const tables = await dump(nStore);
    expect((tables.raw_ads_google_ads as { record: string }[]).at(-1)?.record).toContain('" \\"Brand\\""');
    expect(tables).toEqual(await dump(jStore));
  });

  it('leaves a mapping SQL cannot express to the read path', async () => {
    const own = join(dir, 'mixed');
    await cp(join(here, 'fixtures'), own, { recursive: true });
    // `default: 0` on a text column mixes text and numbers: JavaScript decides per value.
    const file = await pipeline('mixed', sources(own).replace('campaign: utm_campaign', 'campaign: { column: utm_campaign, default: 0 }'));
    const { nStore, jStore, native } = await both('mixed', file);
    expect(fellBack(native, 'events')).toContain('mixes text and double');
    expect(await dump(nStore)).toEqual(await dump(jStore));

    // Hashed forms of emails (identity: hash) are made by the read path only.
    const hashed = await pipeline('hashed', `${sources(own)}\nidentity:\n  hash: [email]\n`);
    const h = await both('hashed', hashed);
    expect(fellBack(h.native, 'events')).toContain('identifiers of type email');
    expect(natively(h.native, 'deals')).toBe(true);
    expect((await dump(h.nStore)).observations).toContainEqual(expect.objectContaining({ identifier_type: 'email_sha256' }));
    expect(await dump(h.nStore)).toEqual(await dump(h.jStore));
  });

  it('hands a file with values SQL may read differently, and the files after it, to the read path', async () => {
    const own = join(dir, 'unsure');
    await cp(join(here, 'fixtures'), own, { recursive: true });
    // Years below 100: Date.UTC reads 0050 as 1950, and only JavaScript knows that.
    await writeFile(join(own, 'web/2024-01-03.ndjson'), '{"event_id":"e20","ts":"0050-01-01 10:00","event_name":"page_view"}\n');
    await writeFile(join(own, 'web/2024-01-04.ndjson'), '{"event_id":"e21","ts":"2024-01-04T10:00:00Z","event_name":"page_view"}\n');
    const file = await pipeline('unsure', sources(own));
    const { nStore, jStore, native } = await both('unsure', file);
    expect(native.lines.some((l) => l.includes('2024-01-03.ndjson has 1 value(s) that SQL might read differently'))).toBe(true);
    const tables = await dump(nStore);
    expect((tables.events as { occurred_at: Date }[]).find((e) => String((e as { event_id?: string }).event_id) === 'web:events:e20')).toMatchObject({
      occurred_at: new Date('1950-01-01T10:00:00.000Z'),
    });
    expect(tables).toEqual(await dump(jStore));
  });
});

describeOnPostgres('native load on PostgreSQL', () => {
  it('is not attempted: the streams are read record by record, with the same results', async () => {
    const own = join(dir, 'pg');
    await cp(join(here, 'fixtures/web'), join(own, 'web'), { recursive: true });
    const file = await pipeline('pg', `
  - name: web
    connector: file
    config:
      streams:
        - name: events
          path: ${own}/web/*.ndjson
          format: ndjson
          columns: { event_id: string, ts: { type: timestamp, required: true }, event_name: string, client_id: string }
          primary_key: [event_id]
          maps_to: { event: { occurred_at: ts, kind: touch, name: event_name, identifiers: { ga_client_id: client_id } } }
`);
    const schema = await createPgSchema();
    try {
      const pg = await openStore({ url: schema.url });
      open.push(pg);
      await pg.migrate();
      const onPg = await run(file, pg, true);
      const onDuck = await run(file, await storeAt('pg-duck.duckdb'), true);
      expect(natively(onPg, 'events')).toBe(false);
      expect(natively(onDuck, 'events')).toBe(true);
      expect(onPg.streams).toEqual(onDuck.streams);
      const records = (await pg.knex('raw_web_events').orderBy('_pk').select('_pk', '_record')) as { _pk: string; _record: unknown }[];
      expect(records.map((r) => r._pk)).toEqual(['e1', 'e2', 'e3', 'e5', 'e6', 'e7']);
    } finally {
      await schema.drop().catch(() => undefined);
    }
  });
});

describe('native load: SQL pieces', () => {
  let connection: Awaited<ReturnType<Awaited<ReturnType<typeof DuckDBInstance.create>>['connect']>>;
  beforeAll(async () => {
    connection = await (await DuckDBInstance.create(':memory:')).connect();
  });

  it('coerces every kind of raw value as columns.ts does, or says it is unsure', async () => {
    const inputs: unknown[] = [
      '', '  ', 'x', '12', ' 12 ', '+12', '-0', '007', '12.5', '12,5', '.5', '5.', '1e3', '1E-3', '1e400', '0x10', '9007199254740991', '9007199254740993',
      'true', 'TRUE', ' yes', 'N', 'f', '1', '0', 'maybe', '\u00a0x\u3000',
      '2024-01-01T10:00:00.000Z', '2024-01-01T10:00:00Z', '2024-01-01T10:01:00+01:00', '2024-01-01 09:00:00', '2024-01-01', '2024-02-30', '2024-02-29',
      '2023-02-29T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T23:59:60Z', '2024-01-01t10:00:00.123456z', '2024-01-01T10:00:00,5 UTC', '2024-01-01T10:00 +0530',
      '2024-01-01T10:00:00-08', '0050-01-01', '0000-02-29', '0050-01-01T00:00:00.000Z', '0050-01-01T10:00:00Z', '9999-12-31T23:00:00-02:00', '2024-13-01', 'yesterday', '20240101', '\u00a02024-01-01\u3000',
      12, 12.5, 0, 1, 2, 1e21, 1.5e300, 1704103500, 1704103500123, 1e-7, 0.1, 100, true, false, 8.64e15, 8.65e15, -1e11, { a: 1 }, [1], null,
    ];
    const problems: string[] = [];
    await connection.run('create temp table raw_values (i integer, kind varchar, text varchar)');
    for (const [i, v] of inputs.entries()) {
      const kind = v === null ? null : typeof v === 'string' ? 's' : typeof v === 'number' ? 'n' : typeof v === 'boolean' ? 'b' : 'o';
      const text = v === null ? null : typeof v === 'string' ? v : JSON.stringify(v);
      await connection.run('insert into raw_values values ($1, $2, $3)', [i, kind, text] as never);
    }
    const raw = { kind: 'kind', text: 'text' };
    for (const type of COLUMN_TYPES) {
      const r = `(case when ${presentSql(raw)} then ${coerceSql(raw, type)} end)`;
      const x = settle(r, type);
      const rows = (await connection.runAndReadAll(`select ${x.value} as v, coalesce(${presentSql(raw)} and ${r} is null, false) as bad, ${x.unsure} as unsure from raw_values order by i`)).getRowObjects();
      inputs.forEach((v, i) => {
        const row = rows[i];
        let expected: unknown;
        try {
          const c = coerce(v, type);
          expected = c === INVALID ? 'INVALID' : c;
        } catch {
          expected = 'THROWS';
        }
        const got = row.bad ? 'INVALID' : typeof row.v === 'bigint' ? Number(row.v) : row.v;
        if (!row.unsure && got !== expected) problems.push(`${JSON.stringify(v)} as ${type}: JS ${String(expected)}, SQL ${String(got)}`);
        // Unsure only where JavaScript does something SQL does not: 19xx years (0000-02-29 is checked
        // against 1900's calendar), ±YYYYYY, Infinity, a throw.
        const odd =
          expected === 'THROWS' || v === '0000-02-29' || (typeof expected === 'string' && /^(\+|-|19)/.test(expected)) || (typeof expected === 'number' && !Number.isFinite(expected));
        if (row.unsure && !odd) problems.push(`${JSON.stringify(v)} as ${type}: unsure without cause (JS ${String(expected)})`);
      });
    }
    expect(problems).toEqual([]);
  });

  it('prints numbers as String() does', async () => {
    const values = [0.1, 49.9, 1 / 3, 1e-7, 1e-6, 123456.789, 1e20, 1e21, 1.5e300, 1200, -0, 5e-324, Number('9.999999999999999e20'), Number('1.2345678901234568e23'), 2 ** 53, 2 ** 53 + 2, -1.5];
    for (let i = 0; i < 2000; i++) {
      const x = (Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 44 - 22);
      values.push(Math.random() < 0.3 ? Math.round(x) : x);
    }
    // String(x) is digits, signs, '.', 'e': safe as SQL text.
    const list = values.map((x, i) => `(${i}, '${String(x)}')`).join(', ');
    const rows = (await connection.runAndReadAll(`select ${jsNumber('x::double')} as s from (values ${list}) t(i, x) order by i`)).getRowObjects();
    expect(rows.map((r) => r.s)).toEqual(values.map(String));
  });
});
