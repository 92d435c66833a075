// Reads YAML while keeping where every node came from, so that later checks (schema, secrets,
// connector configs) can point at `file:line:col`. Syntax errors are reported here, in plain words,
// at the position the parser found them; nothing after this sees a half-parsed document.
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Alias, Document, YAMLError } from 'yaml';
import { ConfigError } from '../errors.ts';
import { diagnosticsError, type JsonPath } from './diagnostics.ts';
import type { Diagnostic } from './types.ts';

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

/** Which end of a `key: value` pair to point at: the key (unknown keys) or the value (wrong values). */
export type NodePart = 'key' | 'value';

/** Maps a path in the document to a position; a path that does not exist falls back to its nearest ancestor. */
export type Locate = (path: JsonPath, part?: NodePart) => SourcePosition;

/** A parsed YAML file: its plain value (as written, nothing resolved) and a way back to positions. */
export interface YamlSource {
  /** The path as the user gave it (used in messages). */
  file: string;
  value: unknown;
  position: Locate;
  /** `file:line:col` of a path. */
  locate(path: JsonPath, part?: NodePart): string;
}

/** Reads and parses a file; an unreadable file is a ConfigError that names the file and the reason. */
export function readYamlFile(file: string, absolutePath: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(absolutePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    throw new ConfigError(`cannot read (${code}: ${READ_ERRORS[code]?.[0] ?? (error as Error).message})`, {
      where: file,
      hint: READ_ERRORS[code]?.[1] ?? 'check that the file exists and can be read',
      cause: error,
    });
  }
  return parseYaml(text, file);
}

const READ_ERRORS: Record<string, [reason: string, hint: string]> = {
  ENOENT: ['no such file or directory', 'check the path: relative paths start at the current directory'],
  EACCES: ['permission denied', 'check the file permissions'],
  EISDIR: ['is a directory', 'give the path of a .yaml file, not of a folder'],
};

/** Parses YAML text; every syntax error becomes a diagnostic and they are thrown together (ConfigErrors). */
export function parseYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema: `2024-01-01` stays a string and `yes` is not a boolean (no 1.1 surprises).
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourcePosition => lineCounter.linePos(offset);

  const diagnostics: Diagnostic[] = [];
  const linesSeen = new Set<number>();
  for (const error of doc.errors) {
    const d = syntaxDiagnostic(error, text, file, at);
    // The parser often reports one mistake several times on the same line; the first is the useful one.
    if (linesSeen.has(d.line)) continue;
    linesSeen.add(d.line);
    diagnostics.push(d);
  }
  let value: unknown;
  if (diagnostics.length === 0) {
    try {
      // maxAliasCount guards against alias bombs ("billion laughs") in untrusted files.
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (error) {
      diagnostics.push(aliasDiagnostic(doc, error as Error, file, at));
    }
  }
  if (diagnostics.length > 0) throw diagnosticsError(diagnostics);

  const position: Locate = (path, part = 'value') => at(offsetOf(doc, path, part));
  return {
    file,
    value,
    position,
    locate(path, part) {
      const p = position(path, part);
      return `${file}:${p.line}:${p.col}`;
    },
  };
}

/** The offset of the node at `path`, or of the deepest ancestor that exists. */
function offsetOf(doc: Document.Parsed, path: JsonPath, part: NodePart): number {
  let node: unknown = doc.contents;
  let valueAt = rangeStart(node) ?? 0;
  let keyAt: number | undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment));
      if (!pair) return valueAt;
      keyAt = rangeStart(pair.key);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      keyAt = undefined;
      node = node.items[segment];
    } else {
      return valueAt;
    }
    // An empty value (`token:`) has no text of its own: its key is the best place to point at.
    valueAt = (isEmptyScalar(node) ? undefined : rangeStart(node)) ?? keyAt ?? valueAt;
  }
  return part === 'key' ? (keyAt ?? valueAt) : valueAt;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : undefined;
}

function isEmptyScalar(node: unknown): boolean {
  if (node === null || node === undefined) return true;
  if (!isScalar(node)) return false;
  const range = node.range;
  return node.value === null && (!range || range[0] === range[1]);
}

// Parser codes in words a person editing a config file recognises, each with what usually fixes it.
const SYNTAX: Partial<Record<YAMLError['code'], { message: (raw: string, token: string) => string; hint?: string }>> = {
  BAD_INDENT: {
    message: (raw) => `bad indentation: ${lowerFirst(raw)}`,
    hint: 'keys of one mapping, and items of one list, start in the same column; a [ or { must be closed',
  },
  BLOCK_AS_IMPLICIT_KEY: {
    message: () => 'a value cannot contain a nested "key: value"',
    hint: 'quote a value that contains ": " (note: "a: b"), or indent the next line like the keys beside it',
  },
  MULTILINE_IMPLICIT_KEY: {
    message: () => 'a key must fit on one line',
    hint: 'check the indentation of this line and the one before it',
  },
  DUPLICATE_KEY: {
    message: (_raw, key) => `duplicate key "${key}"`,
    hint: 'a key may appear once in a mapping: remove or merge the other one',
  },
  TAB_AS_INDENT: {
    message: () => 'tab used for indentation',
    hint: 'YAML indents with spaces only: replace the tab with spaces',
  },
  BAD_SCALAR_START: {
    message: (raw) => `a plain value ${raw.replace(/^Plain value /, '')}`,
    hint: 'quote the value, e.g. key: "@value"',
  },
  BAD_DQ_ESCAPE: {
    message: (raw) => `${lowerFirst(raw)} in a double-quoted string`,
    hint: "use single quotes for text with backslashes ('C:\\data'), or write \\\\ for one backslash",
  },
  MULTIPLE_DOCS: {
    message: () => 'the file holds more than one YAML document (a second ---)',
    hint: 'keep one document per file: remove the extra --- line or split the file',
  },
  UNEXPECTED_TOKEN: {
    message: (raw) => lowerFirst(raw.replace(/ in YAML stream/, '').replace(/ token/, '')),
    hint: 'check the indentation, and that keys (key: value) and list items (- item) are not mixed at one level',
  },
  TAG_RESOLVE_FAILED: { message: (raw) => lowerFirst(raw), hint: 'remove the !tag: pipeline files use plain YAML' },
};

function syntaxDiagnostic(error: YAMLError, text: string, file: string, at: (offset: number) => SourcePosition): Diagnostic {
  const raw = error.message.split('\n')[0].replace(/[.;]$/, '').replace(/; please use .*$/, '');
  let offset = error.pos[0];
  let message: string;
  let hint: string | undefined;
  if (error.code === 'MISSING_CHAR' && /quote/.test(raw)) {
    // The parser notices a missing closing quote at the end of the file; the opening quote is where
    // the mistake is.
    const quote = raw.includes('"') ? '"' : "'";
    const opening = openingQuote(text, offset, quote);
    if (opening !== undefined) offset = opening;
    message = `quoted string is not closed (missing ${quote})`;
    hint = `add the closing ${quote} at the end of the value`;
  } else {
    const known = SYNTAX[error.code];
    message = known ? known.message(raw, keyWrittenAt(text, error.pos[0])) : lowerFirst(raw);
    hint = known?.hint;
  }
  const { line, col } = at(offset);
  return { file, line, col, path: '', message: `YAML syntax: ${message}`, hint };
}

/** The last unescaped `quote` before `offset` that starts a value (follows `: `, `- `, `[`, `,` or a line start). */
function openingQuote(text: string, offset: number, quote: string): number | undefined {
  for (let i = Math.min(offset, text.length - 1); i >= 0; i--) {
    if (text[i] !== quote || text[i - 1] === '\\') continue;
    if (i === 0 || /[\s:,[{-]/.test(text[i - 1])) return i;
  }
  return undefined;
}

/** The key written at `offset` (quoted or plain), for messages about keys. */
function keyWrittenAt(text: string, offset: number): string {
  const match = /^(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^:\n]*))/.exec(text.slice(offset));
  return (match?.[1] ?? match?.[2] ?? match?.[3] ?? '').trim();
}

function aliasDiagnostic(doc: Document.Parsed, error: Error, file: string, at: (offset: number) => SourcePosition): Diagnostic {
  let offset = 0;
  let name = '';
  visit(doc, {
    Alias(_, node: Alias) {
      if (node.resolve(doc) !== undefined) return undefined;
      offset = node.range?.[0] ?? 0;
      name = node.source;
      return visit.BREAK;
    },
  });
  const { line, col } = at(offset);
  return name
    ? { file, line, col, path: '', message: `YAML syntax: alias *${name} has no anchor &${name} before it`, hint: `define &${name} earlier in the file` }
    : { file, line, col, path: '', message: `YAML: ${lowerFirst(error.message)}`, hint: 'use fewer aliases (*name) in the file' };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
