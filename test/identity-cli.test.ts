// The identity commands as a user runs them (a real child process on a real DuckDB store): a small
// pipeline of CRM contacts and web events is loaded and stitched, then `touchpoint person` shows a
// person found by a typed or bare identifier (normalised like loaded ones), and `touchpoint explain`
// shows the chain joining two identifiers, the guard that kept two contacts apart, a blocklisted
// value, and identifiers never seen together.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'core/cli/bin.ts');
const dir = mkdtempSync(join(tmpdir(), 'touchpoint-identity-cli-'));
const env: Record<string, string | undefined> = { ...process.env, TOUCHPOINT_DATABASE_URL: `duckdb://${join(dir, 'store.duckdb')}` };

function touchpoint(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  writeFileSync(
    join(dir, 'contacts.csv'),
    ['contact_id,email,phone,client_id', '1,Anna@Acme.Example, +48 601 234 567 ,111.1', '2,jan@acme.example,,111.1', '3,ola@acme.example,,333.3', ''].join('\n'),
  );
  writeFileSync(
    join(dir, 'events.csv'),
    [
      'event_id,ts,name,client_id,email,gclid',
      'e1,2025-01-01T10:00:00Z,session_start,222.2,,G1',
      'e2,2025-01-02T10:00:00Z,form_submit,222.2,anna@acme.example,',
      'e3,2025-01-03T10:00:00Z,session_start,111.1,,',
      'e4,2025-01-04T10:00:00Z,purchase,333.3,,',
      'e5,2025-01-05T10:00:00Z,session_start,444.4,test@test.com,',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'p.yaml'),
    `version: 1
name: idcli
sources:
  - name: crm
    connector: file
    config:
      streams:
        - name: contacts
          path: contacts.csv
          format: csv
          columns: { contact_id: string, email: string, phone: string, client_id: string }
          primary_key: [contact_id]
          maps_to:
            link:
              identifiers: { hubspot_contact_id: contact_id, email: email, phone: phone, ga_client_id: client_id }
  - name: web
    connector: file
    config:
      streams:
        - name: events
          path: events.csv
          format: csv
          columns: { event_id: string, ts: timestamp, name: string, client_id: string, email: string, gclid: string }
          primary_key: [event_id]
          maps_to:
            event:
              id: event_id
              occurred_at: ts
              kind: { when: { column: name, equals: purchase }, then: conversion, else: touch }
              name: name
              identifiers: { ga_client_id: client_id, email: email, gclid: gclid }
identity:
  default_region: PL
`,
  );
  const extract = touchpoint('run', 'p.yaml', '--only', 'extract', '-q');
  expect(extract.code, extract.stderr).toBe(0);
  const identity = touchpoint('run', 'p.yaml', '--only', 'identity', '--json');
  expect(identity.code, identity.stderr).toBe(0);
  const result = JSON.parse(identity.stdout) as { stages: { name: string; summary: Record<string, unknown> }[] };
  expect(result.stages[0]).toMatchObject({ name: 'identity', summary: { mode: 'full', persons: 4, rejected: { blocklist: 1, max_per_person: 1 } } });
});

describe('touchpoint person', () => {
  it('shows a person by type:value: identifiers with first/last seen and sources, then the timeline in time order', () => {
    const r = touchpoint('person', 'p.yaml', 'email:anna@acme.example');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^person p_[0-9a-f]{16}: 5 identifier\(s\), first seen 2025-01-01T10:00:00.000Z/);
    for (const id of ['email:anna@acme.example', 'phone:+48601234567', 'hubspot_contact_id:1', 'ga_client_id:222.2', 'gclid:G1']) expect(r.stdout).toContain(id);
    expect(r.stdout).not.toContain('ga_client_id:111.1');
    expect(r.stdout).toMatch(/email:anna@acme.example\s+2025-01-02T10:00:00.000Z\s+2025-01-02T10:00:00.000Z\s+2\s+crm\/contacts, web\/events/);
    const timeline = r.stdout.slice(r.stdout.indexOf('timeline'));
    expect(timeline).toContain('timeline (2 event(s))');
    expect(timeline.indexOf('session_start')).toBeLessThan(timeline.indexOf('form_submit'));
  });

  it('finds bare values under every type, normalised as when loaded, and --json gives the same person', () => {
    const byEmail = JSON.parse(touchpoint('person', 'p.yaml', 'email:anna@acme.example', '--json').stdout);
    const bare = touchpoint('person', 'p.yaml', ' ANNA@acme.example', '--json');
    expect(bare.code, bare.stderr).toBe(0);
    const json = JSON.parse(bare.stdout);
    expect(json.person.person_id).toBe(byEmail.person.person_id);
    expect(json.identifiers.map((i: { type: string }) => i.type)).toEqual(['email', 'ga_client_id', 'gclid', 'hubspot_contact_id', 'phone']);
    expect(json.events.map((e: { event_id: string }) => e.event_id)).toEqual(['web:events:e1', 'web:events:e2']);
    const phone = JSON.parse(touchpoint('person', 'p.yaml', '601 234 567', '--json').stdout);
    expect(phone.person.person_id).toBe(byEmail.person.person_id);
  });

  it('says why an identifier belongs to no person, and refuses unknown or ambiguous input (exit 2)', () => {
    const shared = touchpoint('person', 'p.yaml', 'ga_client_id:111.1');
    expect(shared.code).toBe(0);
    expect(shared.stdout).toContain('ga_client_id:111.1 belongs to no person');
    expect(shared.stdout).toContain('max_per_person: joining 2 person(s) would hold 2 hubspot_contact_id values (max 1)');
    const unknown = touchpoint('person', 'p.yaml', 'email:nobody@acme.example');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no identifier "email:nobody@acme.example" in the store');
    expect(touchpoint('person', 'p.yaml').code).toBe(2);
    expect(touchpoint('person', '--help').stdout).toContain('Usage: touchpoint person <pipeline> <identifier>');
  });
});

describe('touchpoint run --only identity', () => {
  it('is incremental with nothing new, and --full-refresh recomputes everything with the same person ids', () => {
    const before = JSON.parse(touchpoint('person', 'p.yaml', 'email:anna@acme.example', '--json').stdout).person.person_id;
    const again = JSON.parse(touchpoint('run', 'p.yaml', '--only', 'identity', '--json').stdout);
    expect(again.stages[0].summary).toMatchObject({ mode: 'incremental', identifiers: 0, created: 0 });
    const full = JSON.parse(touchpoint('run', 'p.yaml', '--only', 'identity', '--full-refresh', '--json').stdout);
    expect(full.stages[0].summary).toMatchObject({ mode: 'full', identifiers: 12, persons: 4, created: 0, updated: 0 });
    expect(JSON.parse(touchpoint('person', 'p.yaml', 'email:anna@acme.example', '--json').stdout).person.person_id).toBe(before);
  });
});

describe('touchpoint explain', () => {
  it('prints the chain of observations joining two identifiers of one person', () => {
    const r = touchpoint('explain', 'p.yaml', 'hubspot_contact_id:1', 'gclid:G1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').slice(0, 4)).toEqual([
      expect.stringMatching(/^hubspot_contact_id:1 and gclid:G1 are one person, p_[0-9a-f]{16}, linked by:$/),
      '  hubspot_contact_id:1',
      '    └─ crm/contacts record 1 ─▶ email:anna@acme.example',
      '    └─ web/events record e2 at 2025-01-02T10:00:00.000Z ─▶ ga_client_id:222.2',
    ]);
    const json = JSON.parse(touchpoint('explain', 'p.yaml', 'hubspot_contact_id:1', 'gclid:G1', '--json').stdout);
    expect(json.path.map((h: { to: string }) => h.to)).toEqual(['email:anna@acme.example', 'ga_client_id:222.2', 'gclid:G1']);
  });

  it('names the guard that kept two contacts apart, with the chain it cut', () => {
    const r = touchpoint('explain', 'p.yaml', 'hubspot_contact_id:1', 'hubspot_contact_id:2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('are kept apart:');
    expect(r.stdout).toContain('  max_per_person ga_client_id:111.1: joining 2 person(s) would hold 2 hubspot_contact_id values (max 1)');
    expect(r.stdout).toContain('─▶ ga_client_id:111.1   (left out: max_per_person)');
  });

  it('says when two identifiers were never linked, or one is blocklisted', () => {
    const apart = touchpoint('explain', 'p.yaml', 'email:ola@acme.example', 'email:anna@acme.example');
    expect(apart.stdout).toContain('are not linked:');
    expect(apart.stdout).toContain('never_seen_together: no chain of observations links them');
    const junk = touchpoint('explain', 'p.yaml', 'ga_client_id:444.4', 'test@test.com');
    expect(junk.stdout).toContain('blocklist email:test@test.com: the value is on the blocklist: it links nothing');
  });
});
