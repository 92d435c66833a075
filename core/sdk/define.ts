// Defaulting factories for plugin authors, and the shape check the engine runs when it loads a
// plugin: a malformed plugin fails at load with a message naming it, not deep inside a run.
import { ConfigError } from '../errors.ts';
import { SDK_VERSION, SUPPORTED_SDK_VERSIONS } from './types.ts';
import type { ConnectorDefinition, JsonObject, StreamDefinition } from './types.ts';

export type ConnectorInput<C> = Omit<ConnectorDefinition<C>, 'sdkVersion'> & { sdkVersion?: number };

export function defineConnector<C = JsonObject>(input: ConnectorInput<C>): ConnectorDefinition<C> {
  return { sdkVersion: SDK_VERSION, ...input };
}

export function defineStream<C = JsonObject, R = JsonObject>(input: StreamDefinition<C, R>): StreamDefinition<C, R> {
  return { ...input, primaryKey: [...input.primaryKey] };
}

/** The refusal a plugin written for another SDK gets: what it needs, what this is, what to do. */
export function sdkMismatch(name: string, declared: number): string {
  const what = declared > SDK_VERSION ? 'upgrade Touchpoint or install' : 'install';
  return `connector ${name} was written for SDK v${declared}; this Touchpoint has SDK v${SDK_VERSION}: ${what} a version of ${name} for SDK v${SDK_VERSION}`;
}

/** Throws a ConfigError naming `where` (a folder or package) when `value` is not a usable connector. */
export function assertConnector(value: unknown, where: string): asserts value is ConnectorDefinition<any> {
  const problems: string[] = [];
  const c = value as Partial<ConnectorDefinition> | undefined;
  if (!c || typeof c !== 'object') {
    throw new ConfigError(`connector plugin does not export a connector (default export or \`connector\`)`, {
      where,
      hint: 'export default defineConnector({ name, version, configSchema, streams })',
    });
  }
  if (typeof c.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(c.name)) problems.push('name must be a kebab-case string');
  if (typeof c.version !== 'string') problems.push('version must be a string');
  if (!c.configSchema || typeof c.configSchema !== 'object') problems.push('configSchema must be a JSON Schema object');
  if (!Array.isArray(c.streams) && typeof c.streams !== 'function') problems.push('streams must be an array or a function of the config');
  if (typeof c.sdkVersion !== 'number') problems.push('sdkVersion must be a number');
  else if (!SUPPORTED_SDK_VERSIONS.includes(c.sdkVersion)) {
    throw new ConfigError(sdkMismatch(String(c.name), c.sdkVersion), {
      where,
      hint:
        c.sdkVersion > SDK_VERSION
          ? `upgrade Touchpoint (npm install touchpoint@latest), or pin the connector to a release declaring sdkVersion ${SDK_VERSION}`
          : `look for a release of the connector that declares sdkVersion ${SDK_VERSION} (npm view <package> versions), or ask its author to port it (docs/connectors.md, "Versioning")`,
    });
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid connector plugin: ${problems.join('; ')}`, {
      where,
      hint: 'see docs/connectors.md for the connector contract',
    });
  }
  if (Array.isArray(c.streams)) for (const s of c.streams) assertStream(s, `${where} (${c.name})`);
}

export function assertStream(value: unknown, where: string): asserts value is StreamDefinition<any, any> {
  const s = value as Partial<StreamDefinition> | undefined;
  const problems: string[] = [];
  if (!s || typeof s !== 'object') problems.push('a stream must be an object');
  else {
    if (typeof s.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(s.name)) problems.push(`stream name ${JSON.stringify(s.name)} must be snake_case`);
    if (!Array.isArray(s.primaryKey) || s.primaryKey.length === 0) problems.push(`stream ${s.name}: primaryKey must list at least one field`);
    if (!s.schema || typeof s.schema !== 'object') problems.push(`stream ${s.name}: schema must be a JSON Schema object`);
    if (typeof s.read !== 'function') problems.push(`stream ${s.name}: read must be a function`);
    if (s.map !== undefined && typeof s.map !== 'function') problems.push(`stream ${s.name}: map must be a function`);
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid connector plugin: ${problems.join('; ')}`, { where, hint: 'see docs/connectors.md' });
  }
}
