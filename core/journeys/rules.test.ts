// The pure parts: defaults of the `journeys:` section, and the SQL compiled from it — configured
// values always bound, never in the SQL text; the one dialect difference (byte-wise text order).
import { describe, expect, it } from 'vitest';
import { assemblyStatements } from './assemble.ts';
import { DEFAULTS, DEFAULT_STAGES, configHash, resolveJourneysConfig } from './config.ts';
import { conversionRule, priorityRank, stageExpression, touchFilter } from './rules.ts';
import { bytewise, inList, raw, sql } from '../store/sql.ts';

describe('journeys config', () => {
  it('fills every default', () => {
    expect(resolveJourneysConfig(undefined)).toEqual(DEFAULTS);
    expect(DEFAULTS).toMatchObject({ lookback_days: 90, session_timeout_minutes: 30, default_channel: 'Unassigned', conversions: null });
    expect(DEFAULTS.identifier_priority).toEqual(['user_id', 'email', 'hubspot_contact_id', 'phone', 'ga_client_id']);
  });

  it('reads a bare event name as a conversion rule', () => {
    const config = resolveJourneysConfig({ conversions: ['purchase', { name: 'won', deal_stages: ['closedwon'], value: 10 }] });
    expect(config.conversions).toEqual([
      { events: ['purchase'], deal_stages: [], stage_property: 'stage' },
      { name: 'won', events: [], deal_stages: ['closedwon'], stage_property: 'stage', value: 10 },
    ]);
  });

  it('hashes what changes the result, so a changed section rebuilds', () => {
    expect(configHash(resolveJourneysConfig({}))).toBe(configHash(resolveJourneysConfig({ lookback_days: 90 })));
    expect(configHash(resolveJourneysConfig({}))).not.toBe(configHash(resolveJourneysConfig({ lookback_days: 60 })));
  });
});

describe('journeys SQL', () => {
  it('binds every configured value', () => {
    const hostile = "x'); drop table events; --";
    const config = resolveJourneysConfig({
      identifier_priority: [hostile],
      conversions: [{ name: hostile, events: [hostile], deal_stages: [hostile], stage_property: hostile, currency: hostile }],
      touch_events: [hostile],
      exclude_events: [hostile],
      stages: [{ stage: hostile, events: [hostile], channels: [hostile], pages: [hostile], property: { name: hostile, values: [hostile] } }],
      default_stage: hostile,
      default_channel: hostile,
    });
    for (const dialect of ['duckdb', 'postgres'] as const) {
      for (const step of assemblyStatements({ config, dialect, scope: hostile, runId: hostile })) {
        expect(step.sql.text).not.toContain('drop table events');
        expect(step.sql.text.split('?').length - 1).toBe(step.sql.values.length);
      }
    }
  });

  it('compiles priorities, conversions, touches and stages', () => {
    expect(priorityRank(['user_id', 'email'])).toEqual({ text: 'case o.identifier_type when ? then 0 when ? then 1 else 2 end', values: ['user_id', 'email'] });
    expect(conversionRule(null).text).toBe("case when kind = 'conversion' then 1 else 0 end");
    expect(conversionRule([{ events: ['purchase'], deal_stages: ['closedwon'], stage_property: 'dealstage' }])).toEqual({
      text: 'case when (name in (?) or name in (?) or (properties->>cast(? as text)) in (?)) then 1 else 0 end',
      values: ['purchase', 'closedwon', 'dealstage', 'closedwon'],
    });
    expect(touchFilter({ ...DEFAULTS, touch_events: [], exclude_events: ['scroll'] })).toEqual({
      text: '(kind in (?, ?) or false) and not name in (?)',
      values: ['touch', 'conversion', 'scroll'],
    });
    expect(stageExpression([{ stage: 'decision', events: ['call'], after_conversion: false }], 'awareness')).toEqual({
      text: 'case when grp = 1 and name in (?) then cast(? as text) else cast(? as text) end',
      values: ['call', 'decision', 'awareness'],
    });
    expect(stageExpression(DEFAULT_STAGES, 'awareness').values).toContain('retention');
  });

  it('orders text byte by byte on PostgreSQL, as DuckDB does', () => {
    expect(bytewise('event_id', 'postgres').text).toBe('event_id collate "C"');
    expect(bytewise('event_id', 'duckdb').text).toBe('event_id');
  });

  it('an empty list matches nothing', () => {
    expect(inList(raw('name'), [])).toEqual({ text: 'false', values: [] });
    expect(sql`a = ${1} and ${inList(raw('b'), ['x'])}`).toEqual({ text: 'a = ? and b in (?)', values: [1, 'x'] });
  });
});
