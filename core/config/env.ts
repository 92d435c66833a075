// Secrets live in the environment, never in committed YAML. This file resolves `${env:NAME}` references
// (a whole value, or embedded as in `postgres://u:${env:PGPASS}@h/db`) and reads `.env` files the way
// most tools do (KEY=value, quotes, comments, `export `), without overriding what is already set.
// Every resolved value is collected so that it can be redacted from anything printed or stored.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatPath, type JsonPath } from './diagnostics.ts';
import type { Diagnostic } from './types.ts';
import type { Locate } from './yaml.ts';

export type Env = Record<string, string | undefined>;

const ENV_REF = /\$\{env:([^}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when a string contains an `${env:…}` reference (the value is not written in the file). */
export function hasEnvRef(text: string): boolean {
  return text.includes('${env:');
}

export interface ResolveOptions {
  env: Env;
  file: string;
  locate: Locate;
  /** Paths where a missing variable is not an error and the reference is left as written (disabled sources). */
  optional?: (path: JsonPath) => boolean;
}

export interface Resolved {
  /** A copy of the value with references replaced. */
  value: unknown;
  /** The values that came from the environment (empty values left out: there is nothing to hide). */
  secrets: string[];
  diagnostics: Diagnostic[];
}

/** Replaces every `${env:NAME}` in string values; a missing variable is a diagnostic at its scalar. */
export function resolveEnvRefs(value: unknown, options: ResolveOptions): Resolved {
  const secrets = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const report = (path: JsonPath, message: string, hint: string) => {
    const { line, col } = options.locate(path, 'value');
    diagnostics.push({ file: options.file, line, col, path: formatPath(path), message, hint });
  };

  const resolveString = (text: string, path: JsonPath): string => {
    if (!hasEnvRef(text)) return text;
    if (hasEnvRef(text.replace(ENV_REF, ''))) {
      report(path, 'unclosed ${env:…} reference (missing "}")', 'write ${env:NAME}');
    }
    return text.replace(ENV_REF, (whole, name: string) => {
      if (!ENV_NAME.test(name)) {
        report(path, `"${whole}" is not a valid variable reference`, 'write ${env:NAME}: letters, digits and _, not starting with a digit');
        return whole;
      }
      const resolved = options.env[name];
      if (resolved === undefined) {
        if (!options.optional?.(path)) report(path, `environment variable ${name} is not set`, `set ${name} in the environment or in .env`);
        return whole;
      }
      if (resolved !== '') secrets.add(resolved);
      return resolved;
    });
  };

  const walk = (node: unknown, path: JsonPath): unknown => {
    if (typeof node === 'string') return resolveString(node, path);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, [...path, key])]));
    }
    return node;
  };

  return { value: walk(value, []), secrets: [...secrets], diagnostics };
}

export interface DotEnvOptions {
  /** Where to set the variables (default process.env). */
  env?: Env;
  /** The folder as it should appear in messages (default: `dir`). */
  label?: string;
}

export interface DotEnvResult {
  /** `<label>/.env` */
  file: string;
  found: boolean;
  /** Variables this file set (those already set are left alone). */
  set: string[];
  diagnostics: Diagnostic[];
}

/** Reads `<dir>/.env` into `env` without overriding variables that are already set. No file: nothing to do. */
export function loadDotEnv(dir: string, options: DotEnvOptions = {}): DotEnvResult {
  const env = options.env ?? process.env;
  const file = join(options.label ?? dir, '.env');
  let text: string;
  try {
    text = readFileSync(join(dir, '.env'), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { file, found: false, set: [], diagnostics: [] };
    return {
      file,
      found: false,
      set: [],
      diagnostics: [{ file, line: 1, col: 1, path: '', message: `cannot read (${code ?? (error as Error).message})`, hint: 'check the file permissions' }],
    };
  }
  const { values, diagnostics } = parseDotEnv(text, file);
  const set: string[] = [];
  for (const [key, value] of values) {
    if (env[key] !== undefined) continue;
    env[key] = value;
    set.push(key);
  }
  return { file, found: true, set, diagnostics };
}

/** KEY=value lines; `#` comments; `export ` prefix; '…' literal; "…" with \n \t \" \\ escapes, may span lines. */
export function parseDotEnv(text: string, file: string): { values: Map<string, string>; diagnostics: Diagnostic[] } {
  const values = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!match) {
      diagnostics.push({ file, line: i + 1, col: line.search(/\S/) + 1, path: '', message: 'cannot read this line (expected KEY=value)', hint: 'lines look like NAME=value; comments start with #' });
      continue;
    }
    const [, key, rest] = match;
    if (rest.startsWith('"')) {
      let body = rest.slice(1);
      let last = i;
      let end = closingQuote(body);
      while (end < 0 && last + 1 < lines.length) {
        last++;
        body += `\n${lines[last]}`;
        end = closingQuote(body);
      }
      if (end < 0) {
        diagnostics.push({ file, line: i + 1, col: line.indexOf('"') + 1, path: '', message: `value of ${key} has no closing "`, hint: 'close the quote at the end of the value' });
        break;
      }
      values.set(key, body.slice(0, end).replace(/\\([nrt"\\])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c));
      i = last;
    } else if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) {
        diagnostics.push({ file, line: i + 1, col: line.indexOf("'") + 1, path: '', message: `value of ${key} has no closing '`, hint: 'close the quote at the end of the value' });
        continue;
      }
      values.set(key, rest.slice(1, end));
    } else {
      // Unquoted: a `#` after whitespace starts a comment; `#` inside a value (a#b) does not.
      values.set(key, rest.replace(/(^|\s+)#.*$/, '').trim());
    }
  }
  return { values, diagnostics };
}

function closingQuote(body: string): number {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') i++;
    else if (body[i] === '"') return i;
  }
  return -1;
}
