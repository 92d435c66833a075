import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigErrors } from '../errors.ts';
import type { JsonSchema } from '../sdk/types.ts';
import { formatDiagnostic } from './diagnostics.ts';
import type { Env } from './env.ts';
import { loadPipeline, validateSourceConfigs } from './pipeline.ts';
import { redact, redactValue } from './secrets.ts';
import type { LoadedPipeline } from './types.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

/** A project folder with the given files; returns its path. */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tp-pipeline-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** The formatted errors of loading pipelines/acme.yaml, or '' when it loads. */
function errorsOf(yaml: string, env: Env = {}, files: Record<string, string> = {}): string {
  const cwd = project({ 'pipelines/acme.yaml': yaml, ...files });
  try {
    loadPipeline('pipelines/acme.yaml', { env, cwd });
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigErrors);
    return (error as ConfigErrors).format();
  }
}

const MINIMAL = 'version: 1\nname: acme\nsources:\n  - name: crm\n    connector: hubspot\n';

describe('loadPipeline', () => {
  it('loads a valid pipeline, filling in an empty config and keeping positions', () => {
    const cwd = project({ 'pipelines/acme.yaml': MINIMAL });
    const loaded = loadPipeline('pipelines/acme.yaml', { env: {}, cwd });
    expect(loaded.file).toBe('pipelines/acme.yaml');
    expect(loaded.dir).toBe(join(cwd, 'pipelines'));
    expect(loaded.config).toEqual({ version: 1, name: 'acme', sources: [{ name: 'crm', connector: 'hubspot', config: {} }] });
    expect(loaded.secrets).toEqual([]);
    expect(loaded.locate(['sources', 0, 'connector'])).toBe('pipelines/acme.yaml:5:16');
    expect(loaded.locate(['sources', 0, 'connector'], 'key')).toBe('pipelines/acme.yaml:5:5');
  });

  it('missing version and name read well', () => {
    expect(errorsOf('sources:\n  - name: crm\n    connector: hubspot\n')).toBe(
      [
        'pipelines/acme.yaml:1:1 missing required key "version"',
        '  hint: start the file with version: 1 (the pipeline format this Touchpoint reads)',
        'pipelines/acme.yaml:1:1 missing required key "name"',
        '  hint: add a name, e.g. name: acme-journeys (lowercase letters, digits, - and _)',
      ].join('\n'),
    );
  });

  it('version 2 is refused with what to do', () => {
    expect(errorsOf(MINIMAL.replace('version: 1', 'version: 2'))).toBe(
      'pipelines/acme.yaml:1:10 version: must be 1 (got 2)\n' +
        '  hint: this Touchpoint reads pipeline files of version 1: write version: 1, or upgrade Touchpoint if the file was written for a newer one',
    );
  });

  it('wrong type and enum-like limits are reported at the value', () => {
    expect(errorsOf(`${MINIMAL}settings:\n  concurrency: two\n`)).toBe('pipelines/acme.yaml:7:16 settings.concurrency: must be integer (got string)');
  });

  it('unknown key with did-you-mean, at the key', () => {
    expect(errorsOf(`${MINIMAL}    strem: [contacts]\n`)).toBe('pipelines/acme.yaml:6:5 sources[0]: unknown key "strem"\n  hint: did you mean "streams"?');
  });

  it('missing required key in a source is reported at the source', () => {
    expect(errorsOf('version: 1\nname: acme\nsources:\n  - name: crm\n    streams: [a]\n')).toBe(
      'pipelines/acme.yaml:4:5 sources[0]: missing required key "connector"\n  hint: say which connector reads this source, e.g. connector: hubspot',
    );
  });

  it('duplicate source names', () => {
    expect(errorsOf(`${MINIMAL}  - name: crm\n    connector: ga4\n`)).toBe(
      'pipelines/acme.yaml:6:11 sources[1].name: duplicate source name "crm" (sources[0] on line 4 has it too)\n' +
        '  hint: give each source its own name: it names the raw tables (raw_<name>_<stream>) and event ids',
    );
  });

  it('a missing variable is reported at its scalar, naming it', () => {
    expect(errorsOf(`${MINIMAL}    config:\n      token: \${env:HUBSPOT_TOKEN}\n`)).toBe(
      'pipelines/acme.yaml:7:14 sources[0].config.token: environment variable HUBSPOT_TOKEN is not set\n  hint: set HUBSPOT_TOKEN in the environment or in .env',
    );
  });

  it('a disabled source may lack its variables', () => {
    const cwd = project({ 'pipelines/acme.yaml': `${MINIMAL}    enabled: false\n    config:\n      token: \${env:HUBSPOT_TOKEN}\n` });
    const loaded = loadPipeline('pipelines/acme.yaml', { env: {}, cwd });
    expect(loaded.config.sources[0].config).toEqual({ token: '${env:HUBSPOT_TOKEN}' });
  });

  it('resolves embedded references, reads .env files without overriding, and collects secrets', () => {
    const yaml = `${MINIMAL.replace('name: acme\n', 'name: acme\nstore: postgres://tp:${env:PGPASS}@db:5432/acme\n')}    config:\n      token: \${env:HUBSPOT_TOKEN}\n      portal: \${env:PORTAL}\n`;
    const cwd = project({
      'pipelines/acme.yaml': yaml,
      // The pipeline's folder wins over the current directory; the environment wins over both.
      'pipelines/.env': 'export HUBSPOT_TOKEN="pat-from-pipeline-env"\nPORTAL=from-pipeline-env\n',
      '.env': 'HUBSPOT_TOKEN=pat-from-cwd-env\nPGPASS=pg-from-cwd-env # comment\nPORTAL=from-cwd-env\n',
    });
    const env: Env = { PORTAL: 'from-shell' };
    const loaded = loadPipeline('pipelines/acme.yaml', { env, cwd });
    expect(loaded.config.store).toBe('postgres://tp:pg-from-cwd-env@db:5432/acme');
    expect(loaded.config.sources[0].config).toEqual({ token: 'pat-from-pipeline-env', portal: 'from-shell' });
    expect(loaded.secrets.toSorted()).toEqual(['from-shell', 'pat-from-pipeline-env', 'pg-from-cwd-env']);

    const printed = redact(`connecting to ${loaded.config.store} with ${JSON.stringify(loaded.config.sources[0].config)}`, loaded.secrets);
    expect(printed).toBe('connecting to postgres://tp:***@db:5432/acme with {"token":"***","portal":"***"}');
    expect(JSON.stringify(redactValue(loaded.config, loaded.secrets))).not.toMatch(/pg-from|pat-from|from-shell/);
  });

  it('an unreadable file is a ConfigError with a hint', () => {
    const cwd = project({});
    let error: unknown;
    try {
      loadPipeline('pipelines/missing.yaml', { env: {}, cwd });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).format()).toBe(
      'pipelines/missing.yaml: cannot read (ENOENT: no such file or directory)\n  hint: check the path: relative paths start at the current directory',
    );
  });

  it('an empty file says so', () => {
    expect(errorsOf('')).toBe(
      'pipelines/acme.yaml:1:1 the file is empty\n  hint: a pipeline file is a YAML mapping: start it with version: 1 and name: <pipeline-name> (see docs/pipeline.md)',
    );
  });

  it('golden: every problem of a broken pipeline, in position order', () => {
    let output = '';
    try {
      loadPipeline('fixtures/broken.yaml', { env: {}, cwd: HERE });
    } catch (error) {
      output = `${(error as ConfigErrors).format()}\n`;
    }
    const expectedFile = join(HERE, 'fixtures/broken.expected.txt');
    if (process.env.UPDATE_GOLDEN) writeFileSync(expectedFile, output);
    expect(output).toBe(readFileSync(expectedFile, 'utf8'));
  });
});

const hubspotSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['token'],
  properties: {
    token: { type: 'string', 'x-secret': true, description: 'Private app token.' },
    accountId: { type: 'string', pattern: '^[0-9]+$', description: 'Portal id.' },
    objects: {
      type: 'array',
      description: 'Objects to read.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: { enum: ['contacts', 'deals', 'companies'] }, properties: { type: 'array', items: { type: 'string' } } },
      },
    },
  },
};
const schemas: Record<string, JsonSchema> = { hubspot: hubspotSchema, ga4: { type: 'object' } };
const known = ['ga4', 'google-ads', 'hubspot', 'meta-ads', 'csv'];

function sourceErrors(sourcesYaml: string, env: Env = {}): string[] {
  const cwd = project({ 'pipelines/acme.yaml': `version: 1\nname: acme\nsources:\n${sourcesYaml}` });
  const loaded = loadPipeline('pipelines/acme.yaml', { env, cwd });
  return validateSourceConfigs(loaded, (c) => schemas[c], known).map(formatDiagnostic);
}

describe('validateSourceConfigs', () => {
  it('accepts a config that matches its connector', () => {
    expect(sourceErrors('  - name: crm\n    connector: hubspot\n    config:\n      token: ${env:HUBSPOT_TOKEN}\n', { HUBSPOT_TOKEN: 'pat-1' })).toEqual([]);
  });

  it('a secret given literally is an error that shows how to write it', () => {
    expect(sourceErrors('  - name: ga\n    connector: ga4\n  - name: crm\n    connector: hubspot\n    config:\n      token: pat-na1-0000\n')).toEqual([
      'pipelines/acme.yaml:9:14 sources[1].config.token: secrets must come from the environment\n' +
        '  hint: write token: ${env:HUBSPOT_TOKEN} and set HUBSPOT_TOKEN in the environment or in .env',
    ]);
  });

  it('an unknown connector gets a did-you-mean among the installed ones', () => {
    expect(sourceErrors('  - name: crm\n    connector: hubspt\n')).toEqual(['pipelines/acme.yaml:5:16 sources[0].connector: unknown connector "hubspt"\n  hint: did you mean "hubspot"?']);
    expect(sourceErrors('  - name: x\n    connector: salesforce\n')).toEqual([
      'pipelines/acme.yaml:5:16 sources[0].connector: unknown connector "salesforce"\n' +
        '  hint: installed connectors: ga4, google-ads, hubspot, meta-ads, csv; list the folder of a connector of your own under plugins:',
    ]);
  });

  it('nested connector-config errors carry their full path', () => {
    const yaml = [
      '  - name: crm',
      '    connector: hubspot',
      '    config:',
      '      token: ${env:HUBSPOT_TOKEN}',
      '      objects:',
      '        - name: contacts',
      '        - name: contcts',
      '          properties: [email, 5]',
      '',
    ].join('\n');
    expect(sourceErrors(yaml, { HUBSPOT_TOKEN: 'pat-1' })).toEqual([
      'pipelines/acme.yaml:10:17 sources[0].config.objects[1].name: must be one of: contacts, deals, companies (got "contcts")\n  hint: did you mean "contacts"?',
      'pipelines/acme.yaml:11:31 sources[0].config.objects[1].properties[1]: must be string (got number)',
    ]);
  });

  it('redacts values that came from the environment', () => {
    expect(sourceErrors('  - name: crm\n    connector: hubspot\n    config:\n      token: ${env:T}\n      accountId: ${env:ACCOUNT}\n', { T: 'pat-1', ACCOUNT: 'acct-secret' })).toEqual([
      'pipelines/acme.yaml:8:18 sources[0].config.accountId: must match the pattern ^[0-9]+$ (got "***")',
    ]);
  });

  it('skips disabled sources and known connectors without a schema', () => {
    expect(sourceErrors('  - name: crm\n    connector: nope\n    enabled: false\n  - name: c\n    connector: csv\n    config: { anything: 1 }\n')).toEqual([]);
  });

  it('works on a LoadedPipeline built by hand (no source document)', () => {
    const loaded: LoadedPipeline = {
      file: 'p.yaml',
      dir: '/',
      secrets: [],
      config: { version: 1, name: 'p', sources: [{ name: 'crm', connector: 'hubspot', config: { token: 5 } }] },
      locate: (path) => `p.yaml:${path.length}:2`,
    };
    expect(validateSourceConfigs(loaded, (c) => schemas[c], known).map(formatDiagnostic)).toEqual(['p.yaml:4:2 sources[0].config.token: must be string (got number)']);
  });
});
