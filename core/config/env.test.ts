import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './diagnostics.ts';
import { loadDotEnv, parseDotEnv, resolveEnvRefs, type Env } from './env.ts';
import { parseYaml } from './yaml.ts';

describe('parseDotEnv', () => {
  it('reads KEY=value with comments, export, quotes and escapes', () => {
    const text = [
      '# comment',
      '',
      'PLAIN=abc',
      'export EXPORTED=yes',
      'SPACED = padded value  # trailing comment',
      'HASH=a#b',
      "SINGLE='no $expansion \\n here'",
      'DOUBLE="line1\\nline2 \\"quoted\\""',
      'MULTI="first',
      'second"',
      'EMPTY=',
    ].join('\n');
    const { values, diagnostics } = parseDotEnv(text, '.env');
    expect(diagnostics).toEqual([]);
    expect(Object.fromEntries(values)).toEqual({
      PLAIN: 'abc',
      EXPORTED: 'yes',
      SPACED: 'padded value',
      HASH: 'a#b',
      SINGLE: 'no $expansion \\n here',
      DOUBLE: 'line1\nline2 "quoted"',
      MULTI: 'first\nsecond',
      EMPTY: '',
    });
  });

  it('reports a line it cannot read at its position', () => {
    const { diagnostics } = parseDotEnv('OK=1\n  not a pair\n', 'pipelines/.env');
    expect(diagnostics.map(formatDiagnostic)).toEqual(['pipelines/.env:2:3 cannot read this line (expected KEY=value)\n  hint: lines look like NAME=value; comments start with #']);
  });
});

describe('loadDotEnv', () => {
  it('sets what is missing and never overrides what is already set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-env-'));
    writeFileSync(join(dir, '.env'), 'HUBSPOT_TOKEN=from-file\nPGPASS=pg-from-file\n');
    const env: Env = { HUBSPOT_TOKEN: 'from-shell' };
    const result = loadDotEnv(dir, { env, label: 'pipelines' });
    expect(result).toMatchObject({ file: 'pipelines/.env', found: true, set: ['PGPASS'] });
    expect(env).toEqual({ HUBSPOT_TOKEN: 'from-shell', PGPASS: 'pg-from-file' });
  });

  it('is quiet when there is no .env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-env-'));
    expect(loadDotEnv(dir, { env: {} })).toMatchObject({ found: false, set: [], diagnostics: [] });
  });
});

describe('resolveEnvRefs', () => {
  const source = parseYaml(['store: postgres://u:${env:PGPASS}@h:${env:PGPORT}/db', 'token: ${env:TOKEN}', 'n: 3', 'bad: ${env:1X}', ''].join('\n'), 'p.yaml');

  it('resolves whole and embedded references and collects the values as secrets', () => {
    const out = resolveEnvRefs(source.value, {
      env: { PGPASS: 'pw-1234', PGPORT: '5432', TOKEN: 'tok-5678', '1X': 'never' },
      file: 'p.yaml',
      locate: source.position,
    });
    expect(out.value).toEqual({ store: 'postgres://u:pw-1234@h:5432/db', token: 'tok-5678', n: 3, bad: '${env:1X}' });
    expect(out.secrets).toEqual(['pw-1234', '5432', 'tok-5678']);
    expect(out.diagnostics.map(formatDiagnostic)).toEqual([
      'p.yaml:4:6 bad: "${env:1X}" is not a valid variable reference\n  hint: write ${env:NAME}: letters, digits and _, not starting with a digit',
    ]);
  });

  it('reports a missing variable at its scalar, naming it', () => {
    const out = resolveEnvRefs(source.value, { env: { PGPASS: 'x', PGPORT: '1', '1X': '' }, file: 'p.yaml', locate: source.position });
    expect(out.diagnostics.map(formatDiagnostic)).toContain('p.yaml:2:8 token: environment variable TOKEN is not set\n  hint: set TOKEN in the environment or in .env');
  });

  it('leaves optional references as written', () => {
    const out = resolveEnvRefs({ a: '${env:NOPE}' }, { env: {}, file: 'p.yaml', locate: () => ({ line: 1, col: 1 }), optional: () => true });
    expect(out).toEqual({ value: { a: '${env:NOPE}' }, secrets: [], diagnostics: [] });
  });
});
