// The FX part of the working tables: the rates file (parsing, errors with file:line), how fixed and
// dated rates combine, and the conversion of revenue and spend into the reporting currency on both
// engines — a rate changing mid-period, the conversion's local date in the analytics time zone, a
// currency without a rate (left out, warned about), the campaign id found through a spend name.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { silentLogger } from '../sdk/log.ts';
import type { Logger } from '../sdk/types.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { describeEachEngine } from '../store/test-support.ts';
import { seed, testConfig } from './attribution-test-support.ts';
import { resolvePeriod } from './period.ts';
import { fxRates, prepare, readFxFile } from './prepare.ts';
import type { AnalyticsContext } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'touchpoint-fx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('FX rates file', () => {
  it('each dated rate holds until the currency\'s next date', () => {
    const f = file('ok.csv', 'Date, Currency ,Rate\n2025-03-20,usd,0.8\n2025-03-10,GBP,1.1\n\n2025-03-01,USD,0.85\n');
    expect(readFxFile(f)).toEqual([
      { currency: 'GBP', valid_from: '2025-03-10', valid_to: null, rate: 1.1 },
      { currency: 'USD', valid_from: '2025-03-01', valid_to: '2025-03-20', rate: 0.85 },
      { currency: 'USD', valid_from: '2025-03-20', valid_to: null, rate: 0.8 },
    ]);
  });
  it('errors name the file and line', () => {
    const bad = file('bad.csv', 'date,currency,rate\n2025-03-01,USD,0.9\n2025-03-02,USD,-1\n');
    expect(() => readFxFile(bad)).toThrow(ConfigError);
    expect(() => readFxFile(bad)).toThrow(/bad FX rate row "2025-03-02,USD,-1"/);
    try {
      readFxFile(bad);
    } catch (e) {
      expect((e as ConfigError).format()).toContain(`${bad}:3:1`);
    }
    expect(() => readFxFile(file('header.csv', 'day,cur,rate\n'))).toThrow(/needs the columns date, currency, rate/);
    expect(() => readFxFile(join(dir, 'missing.csv'))).toThrow(/cannot read the FX rates file/);
  });
  it('fixed rates apply until a currency\'s first dated rate; the reporting currency is 1', () => {
    const f = file('dated.csv', 'date,currency,rate\n2025-03-10,GBP,1.1\n2025-03-15,CHF,1.05\n');
    const rates = fxRates(testConfig({ reporting_currency: 'EUR', fx: { rates: { GBP: 1.2, USD: 0.9, EUR: 7 }, file: f } }));
    expect(rates).toEqual([
      { currency: 'EUR', valid_from: null, valid_to: null, rate: 1 },
      { currency: 'GBP', valid_from: null, valid_to: '2025-03-10', rate: 1.2 },
      { currency: 'USD', valid_from: null, valid_to: null, rate: 0.9 },
      { currency: 'CHF', valid_from: '2025-03-15', valid_to: null, rate: 1.05 },
      { currency: 'GBP', valid_from: '2025-03-10', valid_to: null, rate: 1.1 },
    ]);
  });
});

describeEachEngine('FX in the working tables', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ url: await engine.freshUrl() });
    await store.migrate();
    await seed(
      store,
      [
        { id: 'A', touches: [['Search', '2025-03-05T10:00:00Z']], convertedAt: '2025-03-09T12:00:00Z', value: 100, currency: 'GBP' },
        // 23:30 UTC on 03-09 is 00:30 on 03-10 in Warsaw: the new GBP rate.
        { id: 'B', touches: [['Search', '2025-03-05T10:00:00Z']], convertedAt: '2025-03-09T23:30:00Z', value: 100, currency: 'gbp' },
        { id: 'C', touches: [['Search', '2025-03-05T10:00:00Z', null, 'Brand']], convertedAt: '2025-03-21T12:00:00Z', value: 100, currency: 'JPY' },
        { id: 'D', touches: [['Search', '2025-03-05T10:00:00Z']], convertedAt: '2025-03-22T12:00:00Z', value: 100, currency: 'EUR' },
      ],
      [
        { date: '2025-03-19', channel: 'Search', cost: 100, currency: 'USD', campaign_id: 'g1', campaign: 'Brand' },
        { date: '2025-03-20', channel: 'Search', cost: 100, currency: 'USD' },
        { date: '2025-03-20', channel: 'Search', cost: 100, currency: 'SEK' },
      ],
    );
    await store.knex('journeys').where({ journey_id: 'D' }).update({ conversion_currency: null });
  });
  afterAll(async () => store?.close());

  it('converts revenue and spend at the rate of their (local) date; no rate → null and a warning', async () => {
    const f = file('rates.csv', 'date,currency,rate\n2025-03-10,GBP,1.1\n2025-03-20,USD,0.8\n');
    const config = testConfig({ timezone: 'Europe/Warsaw', reporting_currency: 'EUR', fx: { rates: { GBP: 1.2, USD: 0.9 }, file: f } });
    const warnings: string[] = [];
    const log: Logger = { ...silentLogger, warn: (m: string) => void warnings.push(m), child: () => log };
    const rollback = new Error('rollback');
    await store.knex
      .transaction(async (db) => {
        const ctx: AnalyticsContext = { db, dialect: store.dialect, config, period: resolvePeriod('2025-03', '2026-01-01', config.timezone), comparison: null, runId: 't', log };
        expect(await prepare(ctx)).toEqual({ journeys: 4, unconvertible_revenue: 1, unconvertible_spend: 1 });
        const revenue = Object.fromEntries((await db.raw('select journey_id, revenue from a_journeys order by journey_id')).rows.map((r: Record<string, unknown>) => [r.journey_id, r.revenue]));
        // A: 100 GBP × 1.2; B: × 1.1 (local date 03-10); C: JPY has no rate; D: no currency = EUR.
        expect(revenue.A).toBeCloseTo(120, 9);
        expect(revenue.B).toBeCloseTo(110, 9);
        expect(revenue.C).toBeNull();
        expect(revenue.D).toBe(100);
        const spend = (await db.raw('select date, cost, campaign_key from a_spend order by date, cost_original, currency_original')).rows as Record<string, unknown>[];
        // USD 0.9 until 03-20, then 0.8; SEK has no rate.
        expect(spend.map((s) => [String(s.date).slice(0, 10), s.cost === null ? null : Math.round(Number(s.cost) * 1e9) / 1e9, s.campaign_key])).toEqual([
          ['2025-03-19', 90, 'g1'],
          ['2025-03-20', null, '(none)'],
          ['2025-03-20', 80, '(none)'],
        ]);
        // C's touch has only the name "Brand": it gets the id spend gives that name.
        expect((await db.raw("select campaign_key from a_touches where journey_id = 'C' and not is_conversion")).rows[0].campaign_key).toBe('g1');
        throw rollback;
      })
      .catch((e: unknown) => {
        if (e !== rollback) throw e;
      });
    expect(warnings.join('\n')).toMatch(/1 conversions and 1 spend rows have a currency without an exchange rate into EUR/);
  });
});
