// The `touchpoint` command as a user runs it: a real child process (on the same Node as the tests),
// its exit codes, its output on a broken pipeline (golden), a scaffolded project that validates and
// runs twice with the same row counts, and secrets that never reach --dry-run or --json output.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../core/store/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'core/cli/bin.ts');

function touchpoint(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.TOUCHPOINT_DATABASE_URL;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('touchpoint CLI', () => {
  it('runs on Node >= 22.12 (the node devDependency, not the system Node 20)', () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(major > 22 || (major === 22 && minor >= 12)).toBe(true);
  });

  it('validate on a broken pipeline prints every error at file:line:col and exits 2 (golden)', () => {
    const r = touchpoint(['validate', 'core/config/fixtures/broken.yaml']);
    expect(r.code).toBe(2);
    const expected = readFileSync(join(ROOT, 'test/fixtures/validate-broken.expected.txt'), 'utf8');
    expect(r.stderr).toBe(expected);
  });

  it('validate names a connector config error with its path and position', () => {
    const dir = mkdtempSync(join(tmpdir(), 'touchpoint-cli-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(
      file,
      ['version: 1', 'name: p', 'sources:', '  - name: web', '    connector: file', '    config:', '      streams:', '        - name: events', '          path: x.csv', '          format: xml', '          columns: { id: string }', '          primary_key: [id]', ''].join('\n'),
    );
    const r = touchpoint(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:10:19 sources[0].config.streams[0].format: must be one of`);
    const unknown = touchpoint(['validate', file.replace('p.yaml', 'missing.yaml')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/missing\.yaml: cannot read/);
  });

  it('unknown commands and options are usage errors (exit 2) with a hint', () => {
    const r = touchpoint(['rnu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "rnu"');
    expect(r.stderr).toContain('did you mean "touchpoint run"?');
    const o = touchpoint(['run', 'pipelines/demo.yaml', '--ful-refresh']);
    expect(o.code).toBe(2);
    expect(o.stderr).toContain("Unknown option '--ful-refresh'");
  });

  it('every command has --help', () => {
    for (const command of ['init', 'validate', 'run', 'connectors', 'state', 'runs']) {
      const r = touchpoint([command, '--help']);
      expect(r.code, command).toBe(0);
      expect(r.stdout).toContain(`Usage: touchpoint ${command}`);
    }
  });

  it('connectors --json lists every built-in connector with its streams', () => {
    const r = touchpoint(['connectors', '--json']);
    const list = JSON.parse(r.stdout) as { connector: string; version: string; origin: string }[];
    expect(list.find((c) => c.connector === 'file')).toMatchObject({ origin: 'builtin', version: expect.any(String) });
    const streams = Object.fromEntries((list as unknown as { connector: string; streams: string }[]).map((c) => [c.connector, c.streams]));
    expect(streams).toMatchObject({
      hubspot: 'contacts, companies, deals, calls, emails, meetings, form_submissions',
      'ga4-bigquery': 'events',
      ga4: 'traffic_daily',
      'google-ads': 'campaign_daily, click_view',
      'meta-ads': 'campaign_insights',
    });
  });

  it('init scaffolds a project that validates, runs, and re-runs with the same row counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'touchpoint-init-'));
    const init = touchpoint(['init', 'acme'], { cwd: dir });
    expect(init.code).toBe(0);
    const project = join(dir, 'acme');
    for (const f of ['pipelines/example.yaml', '.env.example', 'README.md', 'reports/README.md', 'templates/README.md']) {
      expect(readFileSync(join(project, f), 'utf8').length).toBeGreaterThan(0);
    }
    expect(touchpoint(['init', 'acme'], { cwd: dir }).code).toBe(2);
    expect(touchpoint(['validate', 'pipelines/example.yaml'], { cwd: project }).code).toBe(0);
    const first = touchpoint(['run', 'pipelines/example.yaml', '--json'], { cwd: project });
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout) as { status: string; streams: { records: number }[] };
    expect(result.status).toBe('succeeded');
    expect(result.streams.reduce((n, s) => n + s.records, 0)).toBe(7);
    const countsAfter = async () => {
      const store = await openStore({ url: `duckdb://${join(project, '.touchpoint/example.duckdb')}`, readOnly: true });
      try {
        const c = await store.counts();
        return { events: c.events, spend: c.spend, observations: c.identifier_observations };
      } finally {
        await store.close();
      }
    };
    const once = await countsAfter();
    expect(once).toEqual({ events: 5, spend: 2, observations: 7 });
    expect(touchpoint(['run', 'pipelines/example.yaml', '-q'], { cwd: project }).code).toBe(0);
    expect(await countsAfter()).toEqual(once);
    const runs = touchpoint(['runs', '--json'], { cwd: project });
    expect((JSON.parse(runs.stdout) as { status: string }[]).map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('secrets from the environment never appear in --dry-run or --json output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'touchpoint-secret-'));
    const secret = 'sk-live-very-secret-4242';
    writeFileSync(join(dir, 'data.csv'), 'id\n1\n');
    writeFileSync(
      join(dir, 'p.yaml'),
      ['version: 1', 'name: p', 'description: "token ${env:TP_TEST_SECRET}"', 'sources:', '  - name: web', '    connector: file', '    config:', '      streams:', '        - name: rows', '          path: data.csv', '          format: csv', '          columns: { id: string }', '          primary_key: [id]', ''].join('\n'),
    );
    const env = { TP_TEST_SECRET: secret, TOUCHPOINT_DATABASE_URL: `duckdb://${join(dir, 's.duckdb')}` };
    const dry = touchpoint(['run', 'p.yaml', '--dry-run', '--json'], { cwd: dir, env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('***');
    expect(dry.stdout + dry.stderr).not.toContain(secret);
    const run = touchpoint(['run', 'p.yaml', '--json'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(secret);
    const missing = touchpoint(['validate', 'p.yaml'], { cwd: dir, env: { TP_TEST_SECRET: undefined } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('p.yaml:3:14 description: environment variable TP_TEST_SECRET is not set');
  });
});
