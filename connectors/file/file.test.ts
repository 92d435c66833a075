// The file connector against real temporary files: formats, gzip, coercion, rejections with
// file:line, the declarative mapping, incremental reads by file and by cursor, resuming mid-file,
// globs, and the config schema (including pipelines/demo.yaml) under ajv strict mode. `format:
// ga4-export` against a gzipped dump of GA4 export rows: the same records and events as the
// ga4-bigquery connector's own parsing and mapping.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { formatDiagnostic, validateWithSchema } from '../../core/config/validate.ts';
import { parseYaml as parseYamlSource } from '../../core/config/yaml.ts';
import { CancelledError, ConfigError, RunError } from '../../core/errors.ts';
import type { JsonObject, Logger, ReadContext, RecordBatch, StreamDefinition, StreamState } from '../../core/sdk/types.ts';
import { parseCsvRecord, OPEN } from './csv.ts';
import { coerce, INVALID } from './columns.ts';
import { generateDemo } from '../../bench/generator/demo.ts';
import { ga4RecordFromExportRow, ga4RecordSchema } from '../ga4-bigquery/export-row.ts';
import { mapGa4Event } from '../ga4-bigquery/map.ts';
import { subtractDuration } from './incremental.ts';
import connector from './index.ts';
import type { MapsTo } from './map.ts';
import type { FileConfig, FileStreamConfig } from './streams.ts';
import schema from './config.schema.json' with { type: 'json' };

const here = dirname(fileURLToPath(import.meta.url));
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'touchpoint-file-'));
  await cp(join(here, 'fixtures'), join(dir, 'data'), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function logger(warnings: string[] = []): Logger {
  const log: Logger = { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {}, child: () => log };
  return log;
}

function streamOf(s: FileStreamConfig, extra: Partial<FileConfig> = {}): { stream: StreamDefinition<FileConfig>; config: FileConfig } {
  const config: FileConfig = { streams: [s], ...extra };
  const streams = typeof connector.streams === 'function' ? connector.streams(config) : connector.streams;
  return { stream: streams[0], config };
}

function context(config: FileConfig, stream: string, state: StreamState = {}, more: { warnings?: string[]; signal?: AbortSignal } = {}): ReadContext<FileConfig> {
  return {
    source: 'test',
    stream,
    config,
    state,
    fullRefresh: false,
    http: {} as ReadContext['http'], // unused by file sources
    log: logger(more.warnings),
    signal: more.signal ?? new AbortController().signal,
    resolvePath: (p) => resolve(dir, p),
    options: { retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, timeoutMs: 1000 } },
  };
}

async function readAll(s: FileStreamConfig, state: StreamState = {}, more: { warnings?: string[]; signal?: AbortSignal } = {}) {
  const { stream, config } = streamOf(s);
  const batches: RecordBatch[] = [];
  for await (const b of stream.read(context(config, s.name, state, more))) batches.push(b);
  const records = batches.flatMap((b) => b.records as JsonObject[]);
  const rejected = batches.flatMap((b) => b.rejected ?? []);
  return { batches, records, rejected, state: batches.at(-1)?.state, stream };
}

const web: FileStreamConfig = {
  name: 'web_events',
  path: 'data/web/*.ndjson',
  format: 'ndjson',
  columns: {
    event_id: 'string',
    ts: { type: 'timestamp', required: true },
    event_name: 'string',
    client_id: 'string',
    user_id: 'string',
    email: 'string',
    session_id: 'string',
    utm_source: 'string',
    utm_medium: 'string',
    utm_campaign: 'string',
    campaign_id: 'string',
    gclid: 'string',
    page_path: { type: 'string', from: 'page.path' },
    device: 'string',
    revenue: 'number',
    currency: 'string',
  },
  primary_key: ['event_id'],
  // Mappings are written in YAML, as users write them.
  maps_to: parseYaml(`
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
  `) as MapsTo,
};

const contacts: FileStreamConfig = {
  name: 'contacts',
  path: 'data/crm/contacts.csv',
  format: 'csv',
  columns: { id: 'integer', email: 'string', phone: 'string', ga_client_id: 'string', notes: 'string', updated_at: 'timestamp' },
  primary_key: ['id'],
  maps_to: { link: { identifiers: { hubspot_contact_id: 'id', email: 'email', phone: 'phone', ga_client_id: 'ga_client_id' }, observed_at: 'updated_at' } },
};

describe('reading', () => {
  it('reads NDJSON, coerces values and rejects corrupt lines with file:line', async () => {
    const { records, rejected } = await readAll(web);
    expect(records.map((r) => r.event_id)).toEqual(['e1', 'e2', 'e3', 'e5', 'e6', 'e7']);
    const [, e2, e3, e5] = records;
    expect(e2.ts).toBe('2024-01-01T09:01:00.000Z'); // +01:00 offset to UTC
    expect(e3.revenue).toBe(49.9); // "49.90" → number
    expect(e5.ts).toBe('2024-01-01T10:05:00.000Z'); // Unix seconds
    expect(records[0].page_path).toBe('/'); // nested `from: page.path`
    expect(records[0]).not.toHaveProperty('page'); // undeclared keys are not kept
    expect(rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^2024-01-01\.ndjson:3: not valid JSON/),
      '2024-01-01.ndjson:5: column ts: "yesterday" is not a valid timestamp',
      '2024-01-01.ndjson:6: not a JSON object',
    ]);
    expect(rejected[0].record).toEqual({ file: '2024-01-01.ndjson', line: 3, raw: 'not json' });
  });

  it('reads RFC 4180 CSV (quotes, newlines in fields, CRLF) and rejects bad rows with file:line', async () => {
    const { records, rejected } = await readAll(contacts);
    expect(records.map((r) => r.id)).toEqual([1, 2, 5, 7]);
    expect(records[0]).toMatchObject({ notes: 'likes "quotes"', updated_at: '2024-01-02T09:00:00.000Z', phone: '+44 20 7946 0958' });
    expect(records[1]).toMatchObject({ notes: 'multi\nline note', phone: null });
    expect(records[2]).toMatchObject({ email: null, notes: null, updated_at: '2024-01-05T00:00:00.000Z' });
    expect(rejected.map((r) => r.reason)).toEqual([
      'contacts.csv:5: expected 6 fields, got 4',
      'contacts.csv:6: column updated_at: "not-a-date" is not a valid timestamp',
      'contacts.csv:8: unexpected "x" after a closing quote in field 2',
    ]);
  });

  it('skips a CSV file whose header lacks a required column; a missing optional column is null', async () => {
    await writeFile(join(dir, 'data/crm/contacts.csv'), 'email,id\nann@example.com,1\n');
    const warnings: string[] = [];
    const optional = await readAll(contacts, {}, { warnings });
    expect(optional.records).toEqual([{ id: 1, email: 'ann@example.com', phone: null, ga_client_id: null, notes: null, updated_at: null }]);
    expect(warnings[0]).toBe('contacts.csv: header has no column phone, ga_client_id, notes, updated_at; those values are null');
    await writeFile(join(dir, 'data/crm/contacts.csv'), 'contact,email\n1,ann@example.com\n');
    const fatal = await readAll(contacts);
    expect(fatal.records).toEqual([]);
    expect(fatal.rejected.map((r) => r.reason)).toEqual(['contacts.csv:1: the header has no column id (found: contact, email); the file is skipped']);
    expect(fatal.state).toMatchObject({ files: { 'contacts.csv': expect.any(Object) } });
  });

  it('reads gzip by extension and by magic bytes, with another delimiter', async () => {
    const csv = await readFile(join(dir, 'data/ads/google-ads.csv'));
    await writeFile(join(dir, 'data/ads/google-ads.csv.gz'), gzipSync(csv));
    await writeFile(join(dir, 'data/ads/meta-export.dat'), gzipSync(csv.toString().replaceAll(',', ';')));
    const base = { name: 'spend', format: 'csv' as const, columns: { date: 'date' as const, campaign_id: 'string' as const, cost: 'number' as const }, primary_key: ['date', 'campaign_id'] };
    const gz = await readAll({ ...base, path: 'data/ads/*.csv.gz' });
    expect(gz.records).toEqual([
      { date: '2024-01-01', campaign_id: '111', cost: 12.5 },
      { date: '2024-01-02', campaign_id: '111', cost: 8.25 },
      { date: '2024-01-01', campaign_id: '222', cost: 30 },
    ]);
    const magic = await readAll({ ...base, path: 'data/ads/meta-export.dat', csv: { delimiter: ';' } });
    expect(magic.records).toEqual(gz.records);
  });

  it('reads headerless TSV in the order of the declared columns', async () => {
    await writeFile(join(dir, 'data/ads/plain.tsv'), '2024-01-01\t111\t"12.5"\n2024-01-02\t111\n');
    const out = await readAll({ name: 'tsv', path: 'data/ads/plain.tsv', format: 'csv', csv: { delimiter: '\t', header: false }, columns: { date: 'date', campaign_id: 'string', cost: 'number' }, primary_key: ['date', 'campaign_id'] });
    expect(out.records).toEqual([{ date: '2024-01-01', campaign_id: '111', cost: 12.5 }]);
    expect(out.rejected.map((r) => r.reason)).toEqual(['plain.tsv:2: expected 3 fields, got 2']);
  });

  it('records a truncated gzip file as rejected and keeps the rows before it', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ event_id: `x${i}`, ts: '2024-01-01T00:00:00Z', pad: 'y'.repeat(i % 50) }));
    const gz = gzipSync(lines.join('\n'));
    await mkdir(join(dir, 'broken'));
    await writeFile(join(dir, 'broken/a.ndjson.gz'), gz.subarray(0, gz.length - 200));
    const out = await readAll({ ...web, path: 'broken/*.ndjson.gz', maps_to: undefined });
    expect(out.records.length).toBeGreaterThan(0);
    expect(out.rejected).toHaveLength(1);
    expect(out.rejected[0].reason).toMatch(/^a\.ndjson\.gz:\d+: cannot read past line \d+: unexpected end of file/);
    expect(out.state).toMatchObject({ files: { 'a.ndjson.gz': expect.any(Object) } });
  });

  it('finds files with ** in sorted order', async () => {
    await mkdir(join(dir, 'data/web/2024/02'), { recursive: true });
    await cp(join(dir, 'data/web/2024-01-02.ndjson'), join(dir, 'data/web/2024/02/late.ndjson'));
    const out = await readAll({ ...web, path: 'data/**/*.ndjson', primary_key: ['event_id', 'ts'] });
    expect(Object.keys((out.state as { files: object }).files)).toEqual(['web/2024-01-01.ndjson', 'web/2024-01-02.ndjson', 'web/2024/02/late.ndjson']);
    expect(out.records).toHaveLength(8);
  });

  it('warns when a glob matches nothing, and fails when a named file is missing', async () => {
    const warnings: string[] = [];
    const none = await readAll({ ...web, path: 'data/nowhere/*.ndjson' }, {}, { warnings });
    expect(none.batches).toEqual([]);
    expect(warnings[0]).toMatch(/test\/web_events: no file matches data\/nowhere\/\*\.ndjson/);
    const missing = readAll({ ...web, path: 'data/web/missing.ndjson' });
    await expect(missing).rejects.toThrow(RunError);
    await expect(missing).rejects.toThrow(/cannot read data\/web\/missing\.ndjson .*no such file/);
  });

  it('stops with CancelledError when the signal is aborted', async () => {
    const controller = new AbortController();
    const { stream, config } = streamOf({ ...web, batch_size: 1 });
    const batches = stream.read(context(config, 'web_events', {}, { signal: controller.signal }))[Symbol.asyncIterator]();
    await batches.next();
    controller.abort();
    await expect(batches.next()).rejects.toThrow(CancelledError);
  });
});

describe('mapping', () => {
  it('maps web events: kind by condition, channel cases, templates, identifiers without blanks', async () => {
    const { records, stream } = await readAll(web);
    const ctx = { source: 'test', stream: 'web_events', config: { streams: [] } };
    const [e1, e2, e3, e5] = records.map((r) => stream.map!(r, ctx).events![0]);
    expect(e1).toEqual({
      id: 'e1',
      occurred_at: '2024-01-01T10:00:00.000Z',
      kind: 'touch',
      name: 'session_start',
      channel: 'Paid Search',
      source_medium: 'google / cpc',
      campaign_id: '111',
      campaign: 'brand',
      value: null,
      currency: 'EUR',
      session_id: 's1',
      device: 'mobile',
      identifiers: [
        { type: 'ga_client_id', value: 'c1' },
        { type: 'gclid', value: 'g1' },
      ],
      properties: { page_path: '/' },
    });
    expect(e2.identifiers).toContainEqual({ type: 'email', value: 'Ann@Example.com' });
    expect(e2).toMatchObject({ channel: 'Direct', source_medium: '(direct) / (none)' });
    expect(e3).toMatchObject({ kind: 'conversion', name: 'purchase', value: 49.9, currency: 'EUR' });
    expect(e3.identifiers).toContainEqual({ type: 'user_id', value: 'u1' });
    expect(e5).toMatchObject({ channel: 'Email', source_medium: 'newsletter / email' });
    expect(e5.identifiers).toEqual([{ type: 'ga_client_id', value: 'c2' }]); // blank email skipped
  });

  it('maps contacts to identifier links, skipping empty identifiers', async () => {
    const { records, stream } = await readAll(contacts);
    const links = records.map((r) => stream.map!(r, { source: 't', stream: 'contacts', config: { streams: [] } }).links);
    expect(links[0]).toEqual([
      {
        identifiers: [
          { type: 'hubspot_contact_id', value: '1' },
          { type: 'email', value: 'ann@example.com' },
          { type: 'phone', value: '+44 20 7946 0958' },
          { type: 'ga_client_id', value: 'c1' },
        ],
        observed_at: '2024-01-02T09:00:00.000Z',
      },
    ]);
    expect(links[2]).toEqual([{ identifiers: [{ type: 'hubspot_contact_id', value: '5' }], observed_at: '2024-01-05T00:00:00.000Z' }]);
  });

  it('maps deals with value maps and conditions, and spend rows', async () => {
    const deals: FileStreamConfig = {
      name: 'deals',
      path: 'data/crm/deals.csv',
      format: 'csv',
      csv: { delimiter: ';' },
      columns: { deal_id: 'string', contact_id: 'string', amount: 'number', currency: 'string', stage: 'string', created_at: 'timestamp', close_date: 'date' },
      primary_key: ['deal_id'],
      maps_to: parseYaml(`
        event:
          occurred_at: { when: { column: stage, in: [closedwon, closedlost] }, then: { column: close_date }, else: { column: created_at } }
          kind: { when: { column: stage, in: [closedwon] }, then: conversion, else: other }
          name: { column: stage, map: { closedwon: deal_won, closedlost: deal_lost }, default: deal_open }
          value: { when: { column: stage, equals: closedwon }, then: { column: amount } }
          currency: currency
          identifiers: { hubspot_contact_id: contact_id }
          properties:
            stage: stage
            won: { when: { all: [{ column: stage, equals: closedwon }, { column: amount, gt: 1000 }] }, then: big, else: 'no' }
      `) as MapsTo,
    };
    const { records, rejected, stream } = await readAll(deals);
    expect(rejected.map((r) => r.reason)).toEqual(['deals.csv:4: column amount: "12,5" is not a valid number']);
    const events = records.map((r) => stream.map!(r, { source: 't', stream: 'deals', config: { streams: [] } }).events![0]);
    expect(events).toEqual([
      { id: 'd1', occurred_at: '2024-01-10T00:00:00.000Z', kind: 'conversion', name: 'deal_won', value: 1200.5, currency: 'EUR', identifiers: [{ type: 'hubspot_contact_id', value: '1' }], properties: { stage: 'closedwon', won: 'big' } },
      { id: 'd2', occurred_at: '2024-01-03T11:00:00.000Z', kind: 'other', name: 'deal_open', value: null, currency: 'USD', identifiers: [{ type: 'hubspot_contact_id', value: '2' }], properties: { stage: 'qualifiedtobuy', won: 'no' } },
    ]);

    const spend = await readAll({
      name: 'google_ads',
      path: 'data/ads/google-ads.csv',
      format: 'csv',
      columns: { date: 'date', campaign_id: 'integer', campaign_name: 'string', cost: 'number', clicks: 'integer', impressions: 'integer', currency: 'string' },
      primary_key: ['date', 'campaign_id'],
      maps_to: { spend: { date: 'date', channel: { const: 'Paid Search' }, campaign_id: 'campaign_id', campaign: 'campaign_name', cost: 'cost', currency: 'currency', clicks: 'clicks', impressions: 'impressions' } },
    });
    expect(spend.stream.map!(spend.records[0], { source: 't', stream: 'google_ads', config: { streams: [] } })).toEqual({
      spend: [{ date: '2024-01-01', channel: 'Paid Search', campaign_id: '111', campaign: 'Brand', cost: 12.5, currency: 'EUR', clicks: 10, impressions: 1000 }],
    });
  });

  it('throws a clear error for a record the mapping cannot place, and for config mistakes', () => {
    const { stream } = streamOf({ ...web, maps_to: { event: { occurred_at: 'ts', kind: { column: 'event_name' }, name: 'event_name' } } });
    expect(() => stream.map!({ event_id: 'x', ts: '2024-01-01T00:00:00.000Z', event_name: 'page_view' } as JsonObject, { source: 't', stream: 's', config: { streams: [] } })).toThrow(
      'maps_to.event.kind "page_view" is not touch, conversion or other (record x)',
    );
    expect(() => streamOf({ ...web, maps_to: { event: { occurred_at: 'tss', kind: 'touch', name: 'event_name' } } })).toThrow(ConfigError);
    expect(() => streamOf({ ...web, maps_to: { event: { occurred_at: 'tss', kind: 'touch', name: 'event_name' } } })).toThrow('streams[0] (web_events).maps_to.event.occurred_at: unknown column "tss"');
    expect(() => streamOf({ ...web, maps_to: { event: { occurred_at: 'ts', kind: 'touch', name: 'event_name', when: { column: 'revenue', gt: 'lots' } } } })).toThrow(
      'maps_to.event.when.gt: "lots" is not a valid number for column revenue',
    );
    expect(() => streamOf({ ...contacts, incremental: { mode: 'cursor', column: 'updated_at', lookback: '3 days' } })).toThrow(/incremental\.lookback: must be an ISO 8601 duration/);
  });
});

describe('incremental', () => {
  it('by file: unchanged files are skipped, changed and new files are read', async () => {
    const first = await readAll(web);
    expect(first.records).toHaveLength(6);
    const second = await readAll(web, first.state);
    expect(second.records).toEqual([]);
    expect(second.batches).toEqual([]); // nothing changed, nothing to commit

    const path = join(dir, 'data/web/2024-01-02.ndjson');
    await writeFile(path, `${await readFile(path, 'utf8')}{"event_id":"e8","ts":"2024-01-02T09:00:00Z","event_name":"page_view"}\n`);
    const changed = await readAll(web, first.state);
    expect(changed.records.map((r) => r.event_id)).toEqual(['e6', 'e7', 'e8']);

    await writeFile(join(dir, 'data/web/2024-01-03.ndjson'), '{"event_id":"e9","ts":"2024-01-03T09:00:00Z","event_name":"page_view"}\n');
    const added = await readAll(web, changed.state);
    expect(added.records.map((r) => r.event_id)).toEqual(['e9']);

    // Same size, same content, new mtime (touch): read again rather than risk missing an edit.
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    expect((await readAll(web, added.state)).records.map((r) => r.event_id)).toEqual(['e6', 'e7', 'e8']);
  });

  it('by cursor: keeps rows at or after the last maximum minus the lookback', async () => {
    const s: FileStreamConfig = { ...contacts, incremental: { mode: 'cursor', column: 'updated_at', lookback: 'P1D' } };
    const first = await readAll(s);
    expect(first.records.map((r) => r.id)).toEqual([1, 2, 5, 7]);
    expect(first.state).toEqual({ mode: 'cursor', cursor: '2024-01-07T00:00:00.000Z' });
    expect(first.stream.cursor).toEqual({ field: 'updated_at', lookback: 'P1D', initial: undefined });

    const second = await readAll(s, first.state);
    expect(second.records.map((r) => r.id)).toEqual([7]); // ≥ 2024-01-06T00:00Z

    await writeFile(join(dir, 'data/crm/contacts.csv'), `${await readFile(join(dir, 'data/crm/contacts.csv'), 'utf8')}8,gina@example.com,,,,2024-01-09T12:00:00Z\n9,old@example.com,,,,2023-12-01\n10,nodate@example.com,,,,\n`);
    const third = await readAll(s, second.state);
    expect(third.records.map((r) => r.id)).toEqual([7, 8, 10]); // 9 is too old; 10 has no cursor value
    expect(third.state).toEqual({ mode: 'cursor', cursor: '2024-01-09T12:00:00.000Z' });
  });

  it('resumes mid-file from a batch state without gaps or duplicates', async () => {
    const lines = Array.from({ length: 23 }, (_, i) => `${i + 1},p${i}@example.com,,,,2024-01-01`);
    await writeFile(join(dir, 'data/crm/contacts.csv'), `id,email,phone,ga_client_id,notes,updated_at\n${lines.join('\n')}\n`);
    const s = { ...contacts, batch_size: 5 };
    const full = await readAll(s);
    expect(full.batches.map((b) => b.records.length)).toEqual([5, 5, 5, 5, 3]);
    expect(full.batches[1].state).toMatchObject({ mode: 'files', files: {}, current: { file: 'contacts.csv', line: 11 } });

    // Killed after the second batch was committed: the next run starts at line 12.
    const resumed = await readAll(s, full.batches[1].state);
    expect(resumed.records.map((r) => r.id)).toEqual(Array.from({ length: 13 }, (_, i) => i + 11));
    expect(resumed.state).toMatchObject({ files: { 'contacts.csv': expect.any(Object) } });
    expect(resumed.state).not.toHaveProperty('current');

    // If the file changed meanwhile, the position is stale: read it all again.
    await writeFile(join(dir, 'data/crm/contacts.csv'), `id,email,phone,ga_client_id,notes,updated_at\n${lines.slice(0, 12).join('\n')}\n`);
    const warnings: string[] = [];
    const restarted = await readAll(s, full.batches[1].state, { warnings });
    expect(restarted.records).toHaveLength(12);
    expect(warnings[0]).toMatch(/contacts\.csv changed since the interrupted run/);
  });

  it('resumes a cursor pass with the threshold of the interrupted run', async () => {
    const s: FileStreamConfig = { ...web, path: 'data/web/*.ndjson', incremental: { mode: 'cursor', column: 'ts' }, batch_size: 2, maps_to: undefined };
    const full = await readAll(s);
    const mid = full.batches[1].state as { pass: { current: { line: number } } };
    expect(mid).toMatchObject({ mode: 'cursor', cursor: null, pass: { max: '2024-01-01T10:05:00.000Z', done: [], current: { file: '2024-01-01.ndjson', line: 4 } } });
    const resumed = await readAll(s, mid as unknown as StreamState);
    expect(resumed.records.map((r) => r.event_id)).toEqual(full.batches.slice(2).flatMap((b) => b.records.map((r) => r.event_id)));
    expect(resumed.state).toEqual(full.state);
  });
});

describe('pieces', () => {
  it('parses CSV records per RFC 4180', () => {
    expect(parseCsvRecord('a,b,c', ',', '"')).toEqual(['a', 'b', 'c']);
    expect(parseCsvRecord('"a,1","b ""x""",', ',', '"')).toEqual(['a,1', 'b "x"', '']);
    expect(parseCsvRecord('5" screen,x', ',', '"')).toEqual(['5" screen', 'x']);
    expect(parseCsvRecord('"open,x', ',', '"')).toBe(OPEN);
    expect(parseCsvRecord('a\tb', '\t', '"')).toEqual(['a', 'b']);
  });

  it('coerces values strictly', () => {
    expect(coerce(' 42 ', 'integer')).toBe(42);
    expect(coerce('4.2', 'integer')).toBe(INVALID);
    expect(coerce('0x10', 'number')).toBe(INVALID);
    expect(coerce('1e3', 'number')).toBe(1000);
    expect(coerce('Yes', 'boolean')).toBe(true);
    expect(coerce('', 'string')).toBe(null);
    expect(coerce('2024-02-30', 'date')).toBe(INVALID);
    expect(coerce('2024-03-01 12:00:00.5-02:00', 'timestamp')).toBe('2024-03-01T14:00:00.500Z');
    expect(coerce('2024-03-01T10:00:00Z', 'date')).toBe('2024-03-01');
    expect(coerce({ a: 1 }, 'string')).toBe(INVALID);
    expect(new Date(subtractDuration(Date.parse('2024-03-31T00:00:00Z'), 'P1DT12H')).toISOString()).toBe('2024-03-29T12:00:00.000Z');
  });

  it('has a strict-mode 2020-12 config schema with a description on every property', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    ajv.addKeyword({ keyword: 'x-hint', schemaType: ['string', 'object'] });
    ajv.compile(schema);
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`));
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        if ((k === 'properties' || k === '$defs') && v && typeof v === 'object') {
          for (const [name, sub] of Object.entries(v as Record<string, Record<string, unknown>>)) {
            if (k === 'properties' && !sub.description) undocumented.push(`${path}.${name}`);
            walk(sub, `${path}.${name}`);
          }
        } else walk(v, `${path}.${k}`);
      }
    };
    walk(schema, '$');
    expect(undocumented).toEqual([]);
  });

  it('loads the generated demo data with pipelines/demo.yaml: every row valid and mapped', async () => {
    const pipeline = parseYaml(await readFile(join(here, '../../pipelines/demo.yaml'), 'utf8')) as { sources: { name: string; config: FileConfig }[] };
    const generated = await generateDemo({ out: join(dir, 'data/demo'), people: 300, seed: 7 });
    const validator = new Ajv2020({ strict: true, allowUnionTypes: true });
    addFormats.default(validator);
    const rows: Record<string, number> = {};
    const canonical = { events: 0, links: 0, spend: 0 };
    for (const source of pipeline.sources) {
      const streams = typeof connector.streams === 'function' ? connector.streams(source.config) : connector.streams;
      for (const stream of streams) {
        const ctx = { ...context(source.config, stream.name), resolvePath: (p: string) => resolve(dir, 'pipelines', p) };
        const valid = validator.compile(stream.schema);
        for await (const batch of stream.read(ctx)) {
          expect(batch.rejected ?? []).toEqual([]);
          for (const record of batch.records as JsonObject[]) {
            expect(valid(record) ? null : { record, errors: valid.errors }).toBeNull();
            const out = stream.map!(record, { source: source.name, stream: stream.name, config: source.config });
            canonical.events += out.events?.length ?? 0;
            canonical.links += out.links?.length ?? 0;
            canonical.spend += out.spend?.length ?? 0;
          }
          rows[stream.name] = (rows[stream.name] ?? 0) + batch.records.length;
        }
      }
    }
    const fileRows = (prefix: string) => generated.files.filter((f) => f.path.startsWith(prefix)).reduce((n, f) => n + f.rows, 0);
    expect(rows).toEqual({
      events: fileRows('web/'),
      contacts: fileRows('crm/contacts'),
      deals: fileRows('crm/deals'),
      activities: fileRows('crm/activities'),
      google_ads: fileRows('ads/google'),
      meta_ads: fileRows('ads/meta'),
      responses: fileRows('survey/'),
    });
    // Every survey response answers both questions: an nps and a csat event.
    expect(rows.responses).toBeGreaterThan(0);
    expect(canonical.events).toBe(rows.events + rows.deals + rows.activities + 2 * rows.responses);
    expect(canonical.spend).toBe(rows.google_ads + rows.meta_ads);
    expect(canonical.links).toBeGreaterThan(0);
  });

  it.each(['demo.yaml', 'ga4-export.yaml'])('accepts pipelines/%s: every file source validates and compiles', async (file) => {
    const pipeline = parseYaml(await readFile(join(here, '../../pipelines', file), 'utf8')) as { sources: { name: string; connector: string; config: FileConfig }[] };
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    ajv.addKeyword({ keyword: 'x-hint', schemaType: ['string', 'object'] });
    const validate = ajv.compile(schema);
    const records = new Ajv2020({ strict: true, allowUnionTypes: true });
    addFormats.default(records);
    const sources = pipeline.sources.filter((s) => s.connector === 'file');
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({ source: source.name, ok: validate(source.config), errors: validate.errors ?? null }).toEqual({ source: source.name, ok: true, errors: null });
      const streams = typeof connector.streams === 'function' ? connector.streams(source.config) : connector.streams;
      for (const s of streams) records.compile(s.schema);
    }
  });
});

describe('format: ga4-export', () => {
  const ga4: FileStreamConfig = { name: 'events', path: 'data/ga4/*.ndjson.gz', format: 'ga4-export' };
  const mapCtx = { source: 'web_ga4', stream: 'events', config: { streams: [] } };
  const fixtureRows = async () =>
    gunzipSync(await readFile(join(here, 'fixtures/ga4/events_20240512.ndjson.gz')))
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as JsonObject);

  it('reads gzipped GA4 export rows into the records and events of the ga4-bigquery parsing and mapping', async () => {
    const rows = await fixtureRows();
    const { records, rejected, stream } = await readAll(ga4);
    expect(rejected).toEqual([]);
    expect(stream.primaryKey).toEqual(['event_id']);
    expect(stream.schema).toBe(ga4RecordSchema);
    expect(records).toHaveLength(20);
    expect(records).toEqual(rows.map((r) => ga4RecordFromExportRow(r)));
    const valid = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(stream.schema);
    expect(records.filter((r) => !valid(r))).toEqual([]);
    expect(new Set(records.map((r) => r.event_id)).size).toBe(20);

    const mapped = records.map((r) => stream.map!(r, mapCtx));
    expect(mapped).toEqual(rows.map((r) => mapGa4Event(ga4RecordFromExportRow(r))));
    const events = mapped.map((m) => m.events![0]);
    const purchase = events.find((e) => e.name === 'purchase' && e.properties?.transaction_id === 'T-10021');
    expect(purchase).toMatchObject({
      occurred_at: '2024-05-12T08:06:37.550918Z',
      kind: 'conversion',
      value: 89.9, // ecommerce.purchase_revenue, in the event's currency
      currency: 'EUR',
      channel: 'Paid Search',
      campaign_id: '20512345678',
      session_id: '1187634255.1715500791:1715500791',
      device: 'desktop',
    });
    expect(purchase!.identifiers).toEqual([
      { type: 'ga_client_id', value: '1187634255.1715500791' },
      { type: 'user_id', value: 'cust-4711' },
    ]);
    // The Google Ads click id is only in the landing page's URL.
    const landing = events.find((e) => e.name === 'session_start' && e.session_id === '1187634255.1715500791:1715500791');
    expect(landing!.identifiers).toContainEqual({ type: 'gclid', value: 'Cj0KCQjw8J6wBhDXARIsAPo7QA9xT2mYpLr7kVd3uQ0eZbHn1wB5Xg8aAhcTEALw_wcB' });
    expect(events.filter((e) => e.identifiers?.some((i) => i.type === 'user_id')).map((e) => e.name)).toEqual([
      'begin_checkout', 'purchase', 'session_start', 'page_view', 'add_to_cart', 'purchase', 'sign_up',
    ]);
    expect(events.map((e) => e.kind).filter((k) => k === 'conversion')).toHaveLength(4); // 2 purchases, generate_lead, sign_up
    expect(events.find((e) => e.name === 'session_start' && e.device === 'mobile' && e.channel === 'Organic Search')).toMatchObject({ source_medium: 'google / organic' });
  });

  it('maps with the ga4 options, named as in the ga4-bigquery connector', async () => {
    const rows = await fixtureRows();
    const options = { conversion_events: ['purchase', 'sign_up'], touch_events: ['session_start', 'page_view'], keep_other_events: false };
    const { records, stream } = await readAll({ ...ga4, ga4: options });
    const expected = rows.map((r) => mapGa4Event(ga4RecordFromExportRow(r), { conversionEvents: options.conversion_events, touchEvents: options.touch_events, keepOtherEvents: false }));
    const mapped = records.map((r) => stream.map!(r, mapCtx));
    expect(mapped).toEqual(expected);
    const names = mapped.flatMap((m) => m.events ?? []).map((e) => `${e.kind}:${e.name}`);
    expect(names).not.toContain('conversion:generate_lead');
    expect(names.filter((n) => n.startsWith('other:'))).toEqual([]);
    // A dropped event still links the identifiers it carried together.
    const checkout = mapped[records.findIndex((r) => r.event_name === 'begin_checkout')];
    expect(checkout).toEqual({
      links: [
        {
          id: records.find((r) => r.event_name === 'begin_checkout')!.event_id,
          identifiers: [
            { type: 'ga_client_id', value: '1187634255.1715500791' },
            { type: 'user_id', value: 'cust-4711' },
          ],
          observed_at: '2024-05-12T08:04:02.009214Z',
        },
      ],
    });
  });

  it('rejects lines that are not JSON or not GA4 export rows, with file:line', async () => {
    const [first, second] = await fixtureRows();
    const lines = [
      JSON.stringify(first),
      'not json',
      '[1,2]',
      '{"page":"/","ts":"2024-05-12T08:00:00Z"}',
      JSON.stringify({ ...second, event_timestamp: 'yesterday' }),
      '',
      JSON.stringify(second),
      '{"event_date":"20240512","event_timestamp":"1715500800412000","event_name":"page_view","event_params":{"key":"ga_session_id"}}',
    ];
    await mkdir(join(dir, 'broken'));
    await writeFile(join(dir, 'broken/events_20240512.ndjson.gz'), gzipSync(lines.join('\n')));
    const out = await readAll({ ...ga4, path: 'broken/*.ndjson.gz' });
    expect(out.records.map((r) => r.event_name)).toEqual([first.event_name, second.event_name]);
    expect(out.rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^events_20240512\.ndjson\.gz:2: not valid JSON \(/),
      'events_20240512.ndjson.gz:3: not a JSON object',
      'events_20240512.ndjson.gz:4: not a GA4 export row: event_date: is required but missing',
      'events_20240512.ndjson.gz:5: not a GA4 export row: event_timestamp: must match pattern "^[0-9]{1,17}$"',
      'events_20240512.ndjson.gz:8: not a GA4 export row: event_params: must be array or null (got object)',
    ]);
    expect(out.rejected[1].record).toEqual({ file: 'events_20240512.ndjson.gz', line: 3, raw: '[1,2]' });
  });

  it('is incremental by files and resumes mid-file', async () => {
    const first = await readAll(ga4);
    expect(first.state).toEqual({ mode: 'files', files: { 'events_20240512.ndjson.gz': expect.any(Object) } });
    const second = await readAll(ga4, first.state);
    expect(second.batches).toEqual([]);

    const s = { ...ga4, batch_size: 7 };
    const full = await readAll(s);
    expect(full.batches.map((b) => b.records.length)).toEqual([7, 7, 6]);
    expect(full.batches[0].state).toMatchObject({ mode: 'files', files: {}, current: { file: 'events_20240512.ndjson.gz', line: 7 } });
    const resumed = await readAll(s, full.batches[0].state);
    expect(resumed.records).toEqual(full.records.slice(7));
    expect(resumed.state).toEqual(full.state);
  });

  it('takes neither columns nor maps_to, is keyed by event_id, and says so in the user\'s terms', () => {
    expect(streamOf(ga4).stream.primaryKey).toEqual(['event_id']);
    expect(streamOf({ ...ga4, primary_key: ['event_id'] }).stream.primaryKey).toEqual(['event_id']);
    expect(() => streamOf({ ...ga4, columns: { event_id: 'string' } })).toThrow('streams[0] (events).columns: not allowed with format ga4-export');
    expect(() => streamOf({ ...ga4, maps_to: web.maps_to })).toThrow('streams[0] (events).maps_to: not allowed with format ga4-export');
    expect(() => streamOf({ ...ga4, primary_key: ['stream_id', 'event_id'] })).toThrow(/primary_key: a ga4-export stream is keyed by event_id/);
    expect(() => streamOf({ ...ga4, incremental: { mode: 'cursor', column: 'event_date' } })).toThrow(/incremental: a ga4-export stream is incremental by files only/);
    expect(() => streamOf({ ...ga4, ga4: { conversion_events: 'purchase' as unknown as string[] } })).toThrow('streams[0] (events).ga4.conversion_events: must be a list of event names');
    expect(() => streamOf({ ...web, ga4: { keep_other_events: false } })).toThrow('streams[0] (web_events).ga4: only for format ga4-export');
    expect(() => streamOf({ ...web, columns: undefined })).toThrow('streams[0] (web_events).columns: declare the columns to keep');

    // What `touchpoint validate` prints for the same mistakes.
    const check = (yaml: string) => {
      const source = parseYamlSource(yaml, 'p.yaml');
      return validateWithSchema(schema, source.value, { file: 'p.yaml', locate: source.position }).map(formatDiagnostic);
    };
    expect(check('streams:\n  - name: events\n    path: a/*.ndjson.gz\n    format: ga4-export\n    ga4: { conversion_events: [purchase], keep_other_events: false }\n')).toEqual([]);
    expect(
      check(
        'streams:\n  - name: events\n    path: a/*.ndjson.gz\n    format: ga4-export\n    columns: { event_id: string }\n    primary_key: [stream_id]\n    incremental: { mode: cursor, column: event_date }\n',
      ),
    ).toEqual([
      'p.yaml:5:14 streams[0].columns: has a value that is not allowed here\n  hint: not used with format: ga4-export, which reads the GA4 export schema: remove columns (or use format: ndjson to pick columns yourself)',
      'p.yaml:6:19 streams[0].primary_key[0]: must be "event_id" (got "stream_id")\n  hint: a ga4-export stream is keyed by event_id (built from the fields that tell GA4 events apart): leave primary_key out',
      'p.yaml:7:26 streams[0].incremental.mode: must be "files" (got "cursor")\n  hint: a ga4-export stream re-reads only new or changed files, and rows are upserted by event_id: leave incremental out',
    ]);
    expect(check('streams:\n  - name: events\n    path: a/*.ndjson\n    format: ndjson\n    ga4: { keep_other_events: false }\n')).toEqual([
      'p.yaml:2:5 streams[0]: missing required key "columns"\n  hint: declare the columns to keep, e.g. columns: { event_id: string, ts: timestamp } (for a GA4 BigQuery export dump use format: ga4-export, which needs none)',
      'p.yaml:2:5 streams[0]: missing required key "primary_key"\n  hint: name the column(s) that identify a record, e.g. primary_key: [event_id]',
      'p.yaml:5:10 streams[0].ga4: has a value that is not allowed here\n  hint: only for format: ga4-export: remove ga4 and map ndjson and csv streams with maps_to',
    ]);
    expect(check('streams:\n  - name: events\n    path: a\n    format: ga4\n')).toEqual(['p.yaml:4:13 streams[0].format: must be one of: ndjson, csv, ga4-export (got "ga4")']);
  });

  it('uses the same record schema as the ga4-bigquery connector\'s events stream', async () => {
    // streams.ts loads googleapis (through client.ts), which the file connector must not: hence the copy.
    const { eventSchema } = await import('../ga4-bigquery/streams.ts');
    expect(ga4RecordSchema).toEqual(eventSchema);
  });

  it('loads without googleapis', async () => {
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); if (r.url.includes('googleapis')) loaded.push(r.url); return r; } });
      await import(${JSON.stringify(pathToFileURL(join(here, 'index.ts')).href)});
      console.log(JSON.stringify(loaded));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).toEqual([]);
  });
});
