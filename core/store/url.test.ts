// Store URL resolution, parsing and display: pure, no database.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { rawTableName } from './index.ts';
import { DEFAULT_DUCKDB_MEMORY_LIMIT, duckdbMemoryLimit, parseStoreUrl, redactUrl, resolveStoreUrl } from './url.ts';

const base = { baseDir: '/work/project', pipelineName: 'acme' };

describe('resolveStoreUrl', () => {
  it('defaults to .touchpoint/<pipeline>.duckdb under the base folder', () => {
    expect(resolveStoreUrl({ ...base, env: {} })).toBe('duckdb:///work/project/.touchpoint/acme.duckdb');
  });

  it('takes the YAML store: and resolves relative DuckDB paths against the base folder', () => {
    expect(resolveStoreUrl({ ...base, yaml: 'duckdb://data/acme.duckdb', env: {} })).toBe('duckdb:///work/project/data/acme.duckdb');
    expect(resolveStoreUrl({ ...base, yaml: 'duckdb:///srv/acme.duckdb', env: {} })).toBe('duckdb:///srv/acme.duckdb');
    expect(resolveStoreUrl({ ...base, yaml: 'duckdb://:memory:', env: {} })).toBe('duckdb://:memory:');
  });

  it('lets TOUCHPOINT_DATABASE_URL win over the YAML', () => {
    const env = { TOUCHPOINT_DATABASE_URL: 'postgres://u:secret@db:5432/tp' };
    expect(resolveStoreUrl({ ...base, yaml: 'duckdb://x.duckdb', env })).toBe('postgres://u:secret@db:5432/tp');
    expect(resolveStoreUrl({ ...base, yaml: 'duckdb://x.duckdb', env: { TOUCHPOINT_DATABASE_URL: '  ' } })).toBe('duckdb:///work/project/x.duckdb');
  });

  it('rejects other URLs with a ConfigError naming where the URL came from, and a hint', () => {
    const fromEnv = () => resolveStoreUrl({ ...base, env: { TOUCHPOINT_DATABASE_URL: 'mysql://u:pw@h/db' } });
    expect(fromEnv).toThrow(ConfigError);
    expect(fromEnv).toThrow(/unsupported store "mysql"/);
    try {
      fromEnv();
    } catch (error) {
      const e = error as ConfigError;
      expect(e.where).toBe('TOUCHPOINT_DATABASE_URL');
      expect(e.hint).toMatch(/duckdb:\/\/.*postgres:\/\//);
      expect(e.message).not.toContain('pw');
    }
    try {
      resolveStoreUrl({ ...base, yaml: 'acme.duckdb', env: {} });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).where).toBe('store');
      expect((error as ConfigError).hint).toBe('write duckdb://acme.duckdb');
    }
    expect(() => parseStoreUrl('duckdb:x.duckdb')).toThrow(/starts with duckdb:\/\//);
    expect(() => parseStoreUrl('duckdb://')).toThrow(/needs a file path/);
    expect(() => parseStoreUrl('postgres://h/db?schema=a;drop')).toThrow(/plain SQL identifier/);
  });
});

describe('parseStoreUrl', () => {
  it('reads postgres and postgresql URLs, keeping our schema parameter away from pg', () => {
    expect(parseStoreUrl('postgresql://u@db.internal/tp?schema=touchpoint&sslmode=require')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgresql://u@db.internal/tp?sslmode=require',
      host: 'db.internal',
      port: 5432,
      database: 'tp',
      schema: 'touchpoint',
    });
  });
});

describe('redactUrl', () => {
  it('hides passwords, including ones with an unencoded @', () => {
    expect(redactUrl('postgres://u:secret@db:5432/tp')).toBe('postgres://u:***@db:5432/tp');
    expect(redactUrl('postgres://u:p@ss@db/tp')).toBe('postgres://u:***@db/tp');
    expect(redactUrl('postgres://db/tp?user=u&password=x')).toBe('postgres://db/tp?user=u&password=***');
    expect(redactUrl('postgres://u@db/tp')).toBe('postgres://u@db/tp');
  });
});

describe('rawTableName', () => {
  it('sanitises to [a-z0-9_] and stays within 63 bytes', () => {
    expect(rawTableName('google-ads', 'Campaign Stats')).toBe('raw_google_ads_campaign_stats');
    const long = rawTableName('s'.repeat(40), 't'.repeat(40));
    expect(long).toHaveLength(63);
    expect(long).not.toBe(rawTableName('s'.repeat(40), `${'t'.repeat(39)}u`));
  });
});

describe('duckdbMemoryLimit', () => {
  it('is 1GB unless TOUCHPOINT_DUCKDB_MEMORY_LIMIT says otherwise', () => {
    expect(duckdbMemoryLimit({})).toBe(DEFAULT_DUCKDB_MEMORY_LIMIT);
    expect(duckdbMemoryLimit({ TOUCHPOINT_DUCKDB_MEMORY_LIMIT: ' ' })).toBe('1GB');
    expect(duckdbMemoryLimit({ TOUCHPOINT_DUCKDB_MEMORY_LIMIT: '4GB' })).toBe('4GB');
    expect(duckdbMemoryLimit({ TOUCHPOINT_DUCKDB_MEMORY_LIMIT: '512 MiB' })).toBe('512 MiB');
  });

  it('names the variable and the expected form when the value is not a size', () => {
    const error = (() => {
      try {
        duckdbMemoryLimit({ TOUCHPOINT_DUCKDB_MEMORY_LIMIT: 'lots' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.format()).toBe('TOUCHPOINT_DUCKDB_MEMORY_LIMIT: not a memory size (got "lots")\n  hint: write a size such as 2GB or 512MB');
  });
});
