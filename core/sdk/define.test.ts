import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { assertConnector, defineConnector, defineStream } from './define.ts';
import { SDK_VERSION } from './index.ts';

const contacts = defineStream({
  name: 'contacts',
  primaryKey: ['id'],
  cursor: { field: 'updatedAt', lookback: 'P1D' },
  schema: { type: 'object', properties: { id: { type: 'string' } } },
  async *read() {
    yield { records: [{ id: '1' }], state: { cursor: '2026-11-23T10:00:00Z' } };
  },
});

function good() {
  return defineConnector({ name: 'hub-spot', version: '1.0.0', configSchema: { type: 'object' }, streams: [contacts] });
}

function failure(value: unknown): ConfigError {
  try {
    assertConnector(value, 'connectors/acme');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected assertConnector to throw');
}

describe('defineConnector / assertConnector', () => {
  it('defaults sdkVersion and accepts a well-formed plugin', () => {
    const c = good();
    expect(c.sdkVersion).toBe(SDK_VERSION);
    expect(() => assertConnector(c, 'connectors/hubspot')).not.toThrow();
    expect(() => assertConnector({ ...c, streams: () => [contacts] }, 'connectors/hubspot')).not.toThrow();
  });

  it('names the plugin and every problem of a malformed one', () => {
    expect(failure(undefined).message).toContain('does not export a connector');
    const e = failure({ name: 'Bad Name', configSchema: 'x', streams: 5, sdkVersion: SDK_VERSION });
    expect(e.where).toBe('connectors/acme');
    expect(e.message).toBe(
      'invalid connector plugin: name must be a kebab-case string; version must be a string; configSchema must be a JSON Schema object; streams must be an array or a function of the config',
    );
  });

  it('checks each stream', () => {
    const bad = { ...good(), streams: [{ ...contacts, name: 'Contacts', primaryKey: [], read: undefined }] };
    const e = failure(bad);
    expect(e.where).toBe('connectors/acme (hub-spot)');
    expect(e.message).toContain('stream name "Contacts" must be snake_case');
    expect(e.message).toContain('primaryKey must list at least one field');
    expect(e.message).toContain('read must be a function');
  });

  it('refuses a plugin written for another SDK version', () => {
    const e = failure({ ...good(), sdkVersion: SDK_VERSION + 1 });
    expect(e.message).toBe(`connector hub-spot was written for SDK v${SDK_VERSION + 1}; this Touchpoint has SDK v${SDK_VERSION}: upgrade Touchpoint or install a version of hub-spot for SDK v${SDK_VERSION}`);
    expect(e.hint).toContain('upgrade Touchpoint');
  });

  it('refuses a plugin written for an older, incompatible SDK', () => {
    const e = failure({ ...good(), sdkVersion: 0 });
    expect(e.message).toBe(`connector hub-spot was written for SDK v0; this Touchpoint has SDK v${SDK_VERSION}: install a version of hub-spot for SDK v${SDK_VERSION}`);
    expect(e.hint).toContain(`declares sdkVersion ${SDK_VERSION}`);
  });
});
