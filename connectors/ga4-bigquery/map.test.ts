// The pure parts on their own: BigQuery f/v decoding by nested schema, GA4 export rows (as NDJSON
// dumps hold them) to records, and records to canonical rows — the functions the `file` connector
// reuses for `format: ga4-export`.
import { describe, expect, it } from 'vitest';
import { createRecordValidator } from '../../core/sdk/records.ts';
import { ga4EventId, ga4RecordFromExportRow } from './export-row.ts';
import type { Ga4Record } from './export-row.ts';
import { encodeRow, fixtures } from './fake/server.ts';
import { mapGa4Event } from './map.ts';
import { eventSchema } from './streams.ts';
import { TableDataError, decodeRow } from './table-data.ts';
import type { TableField } from './table-data.ts';

const rows = fixtures.tables;
const byName = (table: string, name: string): Ga4Record => ga4RecordFromExportRow(rows[table].find((r) => r.event_name === name));

describe('decodeRow', () => {
  const fields: TableField[] = [
    { name: 'n', type: 'INTEGER', mode: 'NULLABLE' },
    { name: 'f', type: 'FLOAT', mode: 'NULLABLE' },
    { name: 'b', type: 'BOOLEAN', mode: 'NULLABLE' },
    { name: 't', type: 'TIMESTAMP', mode: 'NULLABLE' },
    { name: 'tags', type: 'STRING', mode: 'REPEATED' },
    {
      name: 'params',
      type: 'RECORD',
      mode: 'REPEATED',
      fields: [
        { name: 'key', type: 'STRING' },
        { name: 'value', type: 'RECORD', fields: [{ name: 'int_value', type: 'INTEGER' }, { name: 'double_value', type: 'FLOAT' }] },
      ],
    },
    { name: 'geo', type: 'RECORD', mode: 'NULLABLE', fields: [{ name: 'country', type: 'STRING' }] },
  ];

  it('turns f/v cells into nested JSON: INT64 exact as digits, FLOAT and BOOL as JSON, TIMESTAMP µs as ISO', () => {
    const row = {
      f: [
        { v: '9007199254740993' },
        { v: '129.9' },
        { v: 'true' },
        { v: '1715331600123456' },
        { v: [{ v: 'a' }, { v: 'b' }] },
        { v: [{ v: { f: [{ v: 'ga_session_id' }, { v: { f: [{ v: '1715331600' }, { v: null }] } }] } }] },
        { v: null },
      ],
    };
    expect(decodeRow(row, fields)).toEqual({
      n: '9007199254740993',
      f: 129.9,
      b: true,
      t: '2024-05-10T09:00:00.123456Z',
      tags: ['a', 'b'],
      params: [{ key: 'ga_session_id', value: { int_value: '1715331600', double_value: null } }],
      geo: null,
    });
  });

  it('keeps NaN and Infinity as BigQuery spells them, reads float-second timestamps, and makes empty REPEATED an array', () => {
    const out = decodeRow({ f: [{ v: null }, { v: 'NaN' }, { v: 'false' }, { v: '1.7153316E9' }, { v: null }, { v: [] }, { v: { f: [{ v: 'PL' }] } }] }, fields);
    expect(out).toMatchObject({ n: null, f: 'NaN', b: false, t: '2024-05-10T09:00:00.000Z', tags: [], params: [], geo: { country: 'PL' } });
  });

  it('refuses a row that does not fit the schema, naming the field', () => {
    expect(() => decodeRow({ f: [{ v: '1' }] }, fields)).toThrow(TableDataError);
    const bad = { f: fields.map(() => ({ v: null })) };
    bad.f[4] = { v: 'not-an-array' as unknown as null };
    expect(() => decodeRow(bad, fields)).toThrow(/tags: a REPEATED field must hold an array/);
  });

  it('round-trips every fixture row through the f/v encoding of the GA4 export schema', () => {
    for (const row of Object.values(rows).flat()) {
      const decoded = decodeRow(encodeRow(fixtures.schema, row), fixtures.schema as TableField[]);
      expect(ga4RecordFromExportRow(decoded).event_id).toBe(ga4RecordFromExportRow(row).event_id);
      expect(decoded.event_params).toEqual(row.event_params);
      expect(decoded.items).toMatchObject(row.items as object[]);
    }
  });
});

describe('ga4RecordFromExportRow', () => {
  it('keeps the row, writes INT64 columns as digit strings, and adds a stable event_id', () => {
    const row = rows.events_20240510[0];
    const record = ga4RecordFromExportRow(row);
    expect(record).toMatchObject({ event_name: 'session_start', event_timestamp: '1715331600000000', event_date: '20240510' });
    expect(record.event_id).toBe('1715331600000000|session_start|1829374650.1715331500|1715331600|1|1715331600120|1|0');
    expect(record.collected_traffic_source).toBe(row.collected_traffic_source);
    // Hand-made dumps with JSON numbers give the same record.
    const numeric = { ...row, event_timestamp: 1715331600000000, event_bundle_sequence_id: 1, batch_page_id: 1715331600120, batch_ordering_id: 1, batch_event_index: 0, event_date: 20240510 };
    expect(ga4RecordFromExportRow(numeric)).toMatchObject({ event_id: record.event_id, event_timestamp: record.event_timestamp, event_date: '20240510' });
    expect(row.event_timestamp).toBe('1715331600000000');
  });

  it('gives an event the same id in the intraday and in the daily table', () => {
    const intraday = rows.events_intraday_20240512[0];
    const daily = JSON.parse(JSON.stringify(intraday));
    expect(ga4EventId(ga4RecordFromExportRow(daily))).toBe(ga4RecordFromExportRow(intraday).event_id);
  });

  it('throws only for a non-object; a row missing columns fails the record schema instead', () => {
    expect(() => ga4RecordFromExportRow('x')).toThrow(TypeError);
    expect(() => ga4RecordFromExportRow([])).toThrow(/JSON object \(got an array\)/);
    const validate = createRecordValidator(eventSchema);
    expect(validate(ga4RecordFromExportRow({ event_name: 'page_view', event_date: '20240510' }))).toBe('/event_timestamp: is required but missing');
    expect(validate(ga4RecordFromExportRow({ ...rows.events_20240510[1], event_timestamp: '17153e3' }))).toMatch(/^\/event_timestamp: /);
    expect(validate(ga4RecordFromExportRow(rows.events_20240510[1]))).toBeUndefined();
  });
});

describe('mapGa4Event', () => {
  it('maps a paid session start: touch, Paid Search, campaign, session, device, ga_client_id and gclid', () => {
    const { events, links } = mapGa4Event(byName('events_20240510', 'session_start'));
    expect(links).toBeUndefined();
    expect(events).toEqual([
      {
        id: '1715331600000000|session_start|1829374650.1715331500|1715331600|1|1715331600120|1|0',
        occurred_at: '2024-05-10T09:00:00.000000Z',
        kind: 'touch',
        name: 'session_start',
        channel: 'Paid Search',
        source_medium: 'google / cpc',
        campaign_id: '20471',
        campaign: 'spring_sale',
        value: null,
        currency: null,
        session_id: '1829374650.1715331500:1715331600',
        device: 'desktop',
        identifiers: [
          { type: 'ga_client_id', value: '1829374650.1715331500' },
          { type: 'gclid', value: 'Cj0KCQjw-abc123' },
        ],
        properties: {
          page_location: 'https://shop.example.com/spring?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&utm_id=20471&gclid=Cj0KCQjw-abc123',
          page_title: 'Spring sale',
          page_referrer: 'https://www.google.com/',
          ga_session_number: 1,
          country: 'Poland',
          platform: 'WEB',
          stream_id: '4012345678',
        },
      },
    ]);
  });

  it('maps a purchase: conversion with ecommerce.purchase_revenue in the currency parameter, user_id, microsecond time', () => {
    const [event] = mapGa4Event(byName('events_20240510', 'purchase')).events!;
    expect(event).toMatchObject({
      kind: 'conversion',
      name: 'purchase',
      value: 129.9,
      currency: 'EUR',
      channel: 'Paid Search',
      occurred_at: '2024-05-10T09:10:00.000000Z',
      identifiers: [{ type: 'ga_client_id', value: '1829374650.1715331500' }, { type: 'user_id', value: 'u-42' }],
      properties: { transaction_id: 'T-1001', items: 2 },
    });
    const [view] = mapGa4Event(byName('events_20240510', 'page_view')).events!;
    expect(view.occurred_at).toBe('2024-05-10T09:00:00.001250Z');
  });

  it('takes fbclid and utm from the landing URL and collected_traffic_source (exports without session traffic source)', () => {
    const [event] = mapGa4Event(ga4RecordFromExportRow(rows.events_20240510[3])).events!;
    expect(event).toMatchObject({ channel: 'Paid Social', source_medium: 'facebook / paid_social', campaign: 'retarget_may', device: 'mobile' });
    expect(event.identifiers).toContainEqual({ type: 'fbclid', value: 'IwAR2xYzFbClId' });
  });

  it("uses GA4's own session default channel group when the export carries it", () => {
    const record = byName('events_20240510', 'generate_lead');
    const [event] = mapGa4Event(record).events!;
    expect(event).toMatchObject({ kind: 'conversion', channel: 'Paid Social', campaign: 'retarget_may' });
    const own = JSON.parse(JSON.stringify(record));
    own.session_traffic_source_last_click.cross_channel_campaign.default_channel_group = 'Cross-network';
    expect(mapGa4Event(own).events![0].channel).toBe('Cross-network');
  });

  it('derives a session start without campaign data from its referrer: search engine, other site, none', () => {
    expect(mapGa4Event(byName('events_20240511', 'first_visit')).events![0]).toMatchObject({ channel: 'Organic Search', source_medium: 'google / organic' });
    const direct = ga4RecordFromExportRow(rows.events_20240511.find((r) => r.user_pseudo_id === '1122334455.1715420000'));
    expect(mapGa4Event(direct).events![0]).toMatchObject({ channel: 'Direct', source_medium: '(direct) / (none)' });
    expect(mapGa4Event(ga4RecordFromExportRow(rows.events_intraday_20240512[0])).events![0]).toMatchObject({
      channel: 'Organic Social',
      source_medium: 'news.ycombinator.com / referral',
    });
    // A later page view of the same session carries no traffic source of its own.
    expect(mapGa4Event(ga4RecordFromExportRow(rows.events_intraday_20240512[1])).events![0]).toMatchObject({ channel: null, source_medium: null });
  });

  it("counts GA4's firebase_conversion flag as a conversion, with the event's value", () => {
    const [event] = mapGa4Event(byName('events_20240511', 'in_app_purchase')).events!;
    expect(event).toMatchObject({ kind: 'conversion', value: 4.99, currency: 'USD', device: 'mobile', properties: { platform: 'ANDROID' } });
  });

  it('follows the configured event lists, and drops other events to their identifier link when asked', () => {
    const scroll = byName('events_20240510', 'scroll');
    expect(mapGa4Event(scroll).events![0].kind).toBe('other');
    expect(mapGa4Event(scroll, { conversionEvents: ['scroll'] }).events![0].kind).toBe('conversion');
    expect(mapGa4Event(byName('events_20240510', 'purchase'), { conversionEvents: [] }).events![0].kind).toBe('other');
    expect(mapGa4Event(scroll, { keepOtherEvents: false })).toEqual({});
    const signedIn = { ...scroll, user_id: 'u-9' } as Ga4Record;
    expect(mapGa4Event(signedIn, { keepOtherEvents: false })).toEqual({
      links: [
        {
          id: scroll.event_id,
          identifiers: [{ type: 'ga_client_id', value: '5647382910.1715335000' }, { type: 'user_id', value: 'u-9' }],
          observed_at: '2024-05-10T10:00:40.000000Z',
        },
      ],
    });
  });

  it('maps every fixture row without throwing and yields only valid event kinds', () => {
    for (const row of Object.values(rows).flat()) {
      const { events } = mapGa4Event(ga4RecordFromExportRow(row));
      expect(['touch', 'conversion', 'other']).toContain(events![0].kind);
    }
  });
});
