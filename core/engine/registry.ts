// Finds connector plugins and loads them on demand. Three places, in this order of precedence:
// paths listed under `plugins:` in the pipeline, npm packages named `touchpoint-connector-*`, and the
// built-in folders under connectors/. Adding a folder is the whole change: there is no central list.
// A plugin is code (index.ts / a package's JavaScript) or a declarative `connector.yaml` (a REST API
// described in YAML alone, core/sdk/declarative/). Loading is lazy because some connectors pull in
// large client libraries (googleapis).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.ts';
import { loadDeclarativeConnector } from '../sdk/declarative/load.ts';
import { assertConnector } from '../sdk/define.ts';
import type { ConnectorDefinition, JsonSchema } from '../sdk/types.ts';

const BUILTIN_DIR = fileURLToPath(new URL('../../connectors/', import.meta.url));
const PACKAGE_PREFIX = 'touchpoint-connector-';

export type PluginOrigin = 'builtin' | 'package' | 'path';

export interface PluginEntry {
  name: string;
  origin: PluginOrigin;
  /** The module file to import. */
  entry: string;
  /** config.schema.json beside the entry, read without importing the module (fast validate). */
  schemaFile?: string;
}

export interface RegistryOptions {
  /** Plugin paths from the pipeline, already resolved against its folder. */
  pluginPaths?: string[];
  /** Where to look for node_modules/touchpoint-connector-* (default: the current directory). */
  cwd?: string;
}

const DECLARATIVE = 'connector.yaml';

function entryIn(dir: string): string | undefined {
  for (const name of ['index.ts', 'index.js', 'index.mjs', DECLARATIVE]) {
    const file = join(dir, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

function packageEntry(dir: string): string | undefined {
  const pkgFile = join(dir, 'package.json');
  if (existsSync(pkgFile)) {
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { main?: string; exports?: unknown };
    const exp = typeof pkg.exports === 'string' ? pkg.exports : (pkg.exports as { '.'?: unknown } | undefined)?.['.'];
    const main = typeof exp === 'string' ? exp : pkg.main;
    // A package not built yet (main: dist/index.js) still works from its sources in a folder.
    if (main && existsSync(resolve(dir, main))) return resolve(dir, main);
  }
  return entryIn(dir);
}

function schemaBeside(entry: string): string | undefined {
  const file = join(dirname(entry), 'config.schema.json');
  return existsSync(file) ? file : undefined;
}

export class ConnectorRegistry {
  private readonly entries = new Map<string, PluginEntry>();
  private readonly loaded = new Map<string, ConnectorDefinition<any>>();

  constructor(options: RegistryOptions = {}) {
    this.scanBuiltins();
    this.scanPackages(options.cwd ?? process.cwd());
    for (const path of options.pluginPaths ?? []) this.addPlugin(path);
  }

  private scanBuiltins(): void {
    if (!existsSync(BUILTIN_DIR)) return;
    for (const name of readdirSync(BUILTIN_DIR).sort()) {
      const dir = join(BUILTIN_DIR, name);
      if (!statSync(dir).isDirectory()) continue;
      const entry = entryIn(dir);
      if (entry) this.entries.set(name, { name, origin: 'builtin', entry, schemaFile: schemaBeside(entry) });
    }
  }

  private scanPackages(cwd: string): void {
    const roots = new Set([join(cwd, 'node_modules'), fileURLToPath(new URL('../../node_modules/', import.meta.url))]);
    for (const root of roots) {
      if (!existsSync(root)) continue;
      for (const name of readdirSync(root)) {
        if (!name.startsWith(PACKAGE_PREFIX)) continue;
        const entry = packageEntry(join(root, name));
        const short = name.slice(PACKAGE_PREFIX.length);
        if (entry) this.entries.set(short, { name: short, origin: 'package', entry, schemaFile: schemaBeside(entry) });
      }
    }
  }

  /**
   * A plugin path: a connector folder, a module file or a connector.yaml. Returns the name it is
   * registered under (provisional: the folder's, until the definition is imported).
   */
  addPlugin(path: string): string {
    const abs = isAbsolute(path) ? path : resolve(path);
    if (!existsSync(abs)) {
      throw new ConfigError(`plugin path ${path} does not exist`, { hint: 'plugins: entries are resolved against the pipeline file\'s folder' });
    }
    const entry = statSync(abs).isDirectory() ? packageEntry(abs) : abs;
    if (!entry) throw new ConfigError(`plugin path ${path} has no index.ts, index.js or package.json entry`);
    // Named provisionally after the folder; the definition's own name wins once it is imported.
    const isDir = statSync(abs).isDirectory();
    const dirName = isDir || abs.endsWith(DECLARATIVE) ? (isDir ? abs : dirname(abs)).split(/[\\/]/).pop()! : abs.split(/[\\/]/).pop()!.replace(/\.[^.]+$/, '');
    const provisional = dirName.startsWith(PACKAGE_PREFIX) ? dirName.slice(PACKAGE_PREFIX.length) : dirName;
    this.entries.set(provisional, { name: provisional, origin: 'path', entry, schemaFile: schemaBeside(entry) });
    return provisional;
  }

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  entry(name: string): PluginEntry | undefined {
    return this.entries.get(name);
  }

  /** The connector's config schema, from config.schema.json when there is one (no import needed). */
  async configSchema(name: string): Promise<JsonSchema | undefined> {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    if (entry.schemaFile) return JSON.parse(readFileSync(entry.schemaFile, 'utf8')) as JsonSchema;
    return (await this.load(name)).configSchema;
  }

  async load(name: string): Promise<ConnectorDefinition<any>> {
    const cached = this.loaded.get(name);
    if (cached) return cached;
    const entry = this.entries.get(name);
    if (!entry) {
      throw new ConfigError(`unknown connector "${name}"`, {
        hint: `installed connectors: ${this.names().join(', ')}`,
      });
    }
    if (entry.entry.endsWith(DECLARATIVE)) {
      const definition = loadDeclarativeConnector(entry.entry);
      assertConnector(definition, entry.entry);
      this.loaded.set(name, definition);
      return definition;
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(entry.entry).href)) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`connector "${name}" failed to load: ${(error as Error).message}`, {
        where: entry.entry,
        cause: error,
        hint: entry.origin === 'package' ? 'packages in node_modules must ship JavaScript (Node does not strip types there)' : undefined,
      });
    }
    const definition = (mod.default ?? mod.connector) as unknown;
    assertConnector(definition, entry.entry);
    this.loaded.set(name, definition);
    return definition;
  }

  async loadAll(): Promise<{ entry: PluginEntry; definition?: ConnectorDefinition<any>; error?: Error }[]> {
    const out = [];
    for (const name of this.names()) {
      const entry = this.entries.get(name)!;
      try {
        out.push({ entry, definition: await this.load(name) });
      } catch (error) {
        out.push({ entry, error: error as Error });
      }
    }
    return out;
  }
}
