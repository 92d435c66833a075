// `touchpoint query` as a user runs it (a real child process on a real DuckDB store in a temp dir):
// a tiny pipeline is run end to end, then result tables are printed as a table, CSV (quoted) and
// JSON, filtered with --where, a period not stored is computed on demand and listed by --list, and
// unknown names are usage errors with a did-you-mean.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'core/cli/bin.ts');
const dir = mkdtempSync(join(tmpdir(), 'touchpoint-query-cli-'));
const env: Record<string, string | undefined> = { ...process.env, TOUCHPOINT_DATABASE_URL: `duckdb://${join(dir, 'store.duckdb')}` };

function touchpoint(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  writeFileSync(
    join(dir, 'events.csv'),
    [
      'event_id,ts,name,email,channel,campaign,value',
      'e1,2025-01-01T10:00:00Z,session_start,anna@acme.example,Paid Search,"Spring, ""big"" sale",',
      'e2,2025-01-01T10:05:00Z,add_to_cart,anna@acme.example,Paid Search,,',
      'e3,2025-01-01T10:10:00Z,purchase,anna@acme.example,Paid Search,,120',
      'e4,2025-01-03T10:00:00Z,session_start,jan@acme.example,Email,,',
      'e5,2025-02-03T10:00:00Z,session_start,ola@acme.example,Direct,,',
      'e6,2025-01-05T10:00:00Z,nps,anna@acme.example,,,9',
      'e7,2025-01-06T10:00:00Z,nps,jan@acme.example,,,4',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'p.yaml'),
    `version: 1
name: querycli
sources:
  - name: web
    connector: file
    config:
      streams:
        - name: events
          path: events.csv
          format: csv
          columns: { event_id: string, ts: timestamp, name: string, email: string, channel: string, campaign: string, value: number }
          primary_key: [event_id]
          maps_to:
            event:
              occurred_at: ts
              kind: { cases: [{ when: { column: name, equals: purchase }, then: conversion }, { when: { column: name, equals: nps }, then: other }], else: touch }
              name: name
              channel: channel
              campaign: campaign
              value: value
              identifiers: { email: email }
analytics:
  periods: [all]
  as_of: "2025-03-01"
`,
  );
  const run = touchpoint('run', 'p.yaml', '-q');
  expect(run.code, run.stderr).toBe(0);
}, 120_000);

describe('touchpoint query', () => {
  it('prints a result table for the default period', () => {
    const r = touchpoint('query', 'funnels', 'p.yaml');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^funnel_results · all · run \S+ · computed /);
    expect(r.stdout).toMatch(/stages\s+all\s+\(all\)\s+1\s+awareness\s+3\s+/);
    expect(r.stdout).not.toContain('computed_at');
  });

  it('CSV: a header, quoted fields, --where filters', () => {
    const r = touchpoint('query', 'funnel_results', 'p.yaml', '--format', 'csv', '--where', 'segment_type=first_touch_campaign', '--where', 'step_number=1');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\r\n');
    expect(lines[0].split(',')).toEqual(expect.arrayContaining(['period', 'funnel', 'segment_type', 'segment_value', 'entrants']));
    expect(r.stdout).toContain('"Spring, ""big"" sale"');
    expect(lines.filter((l) => l !== '')).toHaveLength(3); // the header, (none) and the spring campaign
  });

  it('JSON: an array of objects', () => {
    const r = touchpoint('query', 'cx', 'p.yaml', '--format', 'json', '--where', 'metric=nps', '--where', 'segment_type=all');
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows).toEqual([expect.objectContaining({ period: 'all', metric: 'nps', segment_value: '(all)', value: 0, n: 2, unit: 'score' })]);
    const paths = JSON.parse(touchpoint('query', 'paths', 'p.yaml', '--json', '--where', 'kind=conversion_path', '--where', 'collapsed=true').stdout) as Record<string, unknown>[];
    expect(paths).toEqual([expect.objectContaining({ kind: 'conversion_path', path: 'Paid Search', journeys: 1, revenue: 120 })]);
  });

  it('computes a period on demand, then lists it', () => {
    const r = touchpoint('query', 'cx', 'p.yaml', '--period', '2025-02', '--where', 'metric=conversion_rate');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('computing 2025-02 (2025-02-01..2025-02-28)');
    expect(r.stdout).toMatch(/conversion_rate\s+all\s+\(all\)\s+0\s+1\s+ratio/);
    const again = touchpoint('query', 'cx', 'p.yaml', '--period', '2025-02-01..2025-02-28', '--limit', '1');
    expect(again.stderr).not.toContain('computing');
    const list = touchpoint('query', '--list', 'p.yaml', '--json');
    const periods = JSON.parse(list.stdout) as { table: string; period: string; rows: number }[];
    expect(periods.filter((p) => p.table === 'cx_metrics').map((p) => p.period)).toEqual(['2025-02-01..2025-02-28', 'all']);
  });

  it('unknown tables, columns and formats are usage errors with a hint', () => {
    const r = touchpoint('query', 'funels', 'p.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown result table "funels"');
    expect(r.stderr).toContain('did you mean "funnels"?');
    const col = touchpoint('query', 'cx', 'p.yaml', '--where', 'metrc=nps');
    expect(col.code).toBe(2);
    expect(col.stderr).toContain('did you mean "metric"?');
    expect(touchpoint('query', 'cx', 'p.yaml', '--format', 'xml').code).toBe(2);
    expect(touchpoint('query', 'funnels', 'p.yaml', '--model', 'markov').code).toBe(2);
  });

  it('has --help', () => {
    const r = touchpoint('query', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: touchpoint query');
  });
});
