// The conformance kit: every built-in connector passes it (this is the CI gate the issue asks for),
// it catches a connector that breaks each rule, and `touchpoint connector new` generates connectors
// (TypeScript and YAML-only) whose own test and the kit pass and that load data through a pipeline.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderReport } from '../core/cli/commands/connector.ts';
import { scaffoldConnector } from '../core/cli/scaffold/index.ts';
import { loadPipeline } from '../core/config/pipeline.ts';
import { runConformance } from '../core/engine/conformance/kit.ts';
import { runPipeline } from '../core/engine/run.ts';
import { createLogger } from '../core/sdk/log.ts';
import { openStore } from '../core/store/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BROKEN = resolve(import.meta.dirname, 'fixtures/plugins/broken-kit');
const BUILTINS = readdirSync(join(ROOT, 'connectors')).filter((n) => statSync(join(ROOT, 'connectors', n)).isDirectory());

describe('every built-in connector passes the kit', () => {
  it.each(BUILTINS)('%s', async (name) => {
    const report = await runConformance(name, { cwd: ROOT });
    expect(report.ok, renderReport(report)).toBe(true);
    expect(report.checks.filter((c) => c.status === 'pass').length).toBeGreaterThan(8);
  });
});

describe('the kit catches a broken connector', () => {
  afterEach(() => {
    delete process.env.KIT_BROKEN_MODE;
  });
  const failing = async (mode: string) => {
    process.env.KIT_BROKEN_MODE = mode;
    const report = await runConformance(BROKEN, { cwd: ROOT });
    expect(report.ok).toBe(false);
    return report.checks.filter((c) => c.status === 'fail').map((c) => `${c.check}: ${c.detail}`);
  };
  it('passes when nothing is broken', async () => {
    const report = await runConformance(BROKEN, { cwd: ROOT });
    expect(report.ok, renderReport(report)).toBe(true);
  });
  it('duplicate primary keys', async () => {
    expect(await failing('dup')).toEqual([expect.stringMatching(/^primary keys unique: \[id\] = a appears twice/)]);
  });
  it('state going backwards', async () => {
    expect(await failing('back')).toEqual([expect.stringMatching(/^state moves forward: state.cursor went back from 5 to 3/)]);
  });
  it('a secret in the logs', async () => {
    expect(await failing('leak')).toEqual([expect.stringMatching(/^secrets never logged: secret #1/)]);
  });
  it('a 401 swallowed', async () => {
    expect(await failing('swallow')).toEqual([expect.stringMatching(/^401 → AuthError: the read succeeded/)]);
  });
});

describe('touchpoint connector new', () => {
  const log = createLogger({ secrets: [], level: 'error', write: () => {} });
  // A workspace outside the repository, as an agency's would be: `touchpoint` and vitest installed.
  const workspace = () => {
    const dir = mkdtempSync(join(tmpdir(), 'touchpoint-kit-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules/touchpoint'));
    symlinkSync(join(ROOT, 'node_modules/vitest'), join(dir, 'node_modules/vitest'));
    return dir;
  };

  it.each([false, true])('declarative=%s: the generated test and the kit pass, and a pipeline loads its data', async (declarative) => {
    const ws = workspace();
    const made = scaffoldConnector({ name: 'acme-crm', dir: '.', declarative, cwd: ws });
    expect(made.files).toContain(declarative ? 'connector.yaml' : 'index.ts');
    const out = execFileSync(join(ROOT, 'node_modules/.bin/vitest'), ['run', '--root', ws], { cwd: ws, encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
    expect(out.replaceAll(`${String.fromCharCode(27)}[`, '[').replace(/\[[0-9;]*m/g, '')).toMatch(/Tests\s+4 passed/);

    const report = await runConformance('./acme-crm', { cwd: ws });
    expect(report.ok, renderReport(report)).toBe(true);

    const { startFake, TOKEN } = (await import(join(ws, 'acme-crm/fake/server.ts'))) as {
      startFake(): Promise<{ url: string; close(): Promise<void> }>;
      TOKEN: string;
    };
    const fake = await startFake();
    try {
      const file = join(ws, 'acme.yaml');
      writeFileSync(file, ['version: 1', 'name: acme', 'plugins: [./acme-crm]', 'sources:', '  - name: crm', '    connector: acme-crm', `    config: { api_token: "\${env:ACME_TOKEN}", base_url: "${fake.url}" }`, ''].join('\n'));
      const url = `duckdb://${join(ws, 'acme.duckdb')}`;
      const env = { ACME_TOKEN: TOKEN, TOUCHPOINT_DATABASE_URL: url };
      const result = await runPipeline(loadPipeline(file, { env, cwd: ws }), { log, env, cwd: ws });
      expect(result.status, result.error).toBe('succeeded');
      const store = await openStore({ url });
      try {
        const [{ n }] = await store.knex('events').where({ source: 'crm', name: 'signup' }).count({ n: '*' });
        expect(Number(n)).toBe(5);
      } finally {
        await store.close();
      }
    } finally {
      await fake.close();
    }
  });
});
