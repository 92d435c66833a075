// The only part of the file connector that touches the file system: expanding a glob, taking a
// file's fingerprint, and streaming its lines (gunzipped when needed) without holding the file in
// memory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { glob, open, stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Fingerprint } from './incremental.ts';

/** Reading a file's content failed; `corrupt` when the bytes are bad (not gzip, truncated gzip). */
export class FileReadError extends Error {
  readonly code: string | undefined;
  readonly corrupt: boolean;
  constructor(error: unknown) {
    const e = error as NodeJS.ErrnoException;
    super(e?.message ?? String(error), { cause: error });
    this.name = 'FileReadError';
    this.code = e?.code;
    // zlib reports bad data with Z_DATA_ERROR / Z_BUF_ERROR ("unexpected end of file").
    this.corrupt = typeof e?.code === 'string' && e.code.startsWith('Z_');
  }
}

export interface MatchedFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the glob's fixed folder, with `/`: the key in stream state and messages. */
  key: string;
}

const GLOB_CHARS = /[*?[\]{}]/;

export function hasWildcard(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}

/** The folder part of a pattern before its first wildcard segment. */
export function globBase(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (hasWildcard(part)) break;
    fixed.push(part);
  }
  return fixed.join('/') || '/';
}

/**
 * Files matching an absolute pattern, sorted by key (code-unit order, the same on every machine).
 * A pattern without wildcards names one file, and its absence is an error (ENOENT is thrown).
 */
export async function listFiles(absolutePattern: string): Promise<{ base: string; files: MatchedFile[] }> {
  const pattern = absolutePattern.split(sep).join('/');
  if (!hasWildcard(pattern)) {
    const s = await stat(pattern);
    if (!s.isFile()) throw Object.assign(new Error(`${pattern} is not a file`), { code: 'EISDIR' });
    const base = globBase(pattern);
    return { base, files: [{ path: pattern, key: relative(base, pattern).split(sep).join('/') }] };
  }
  const base = globBase(pattern);
  const files: MatchedFile[] = [];
  for await (const entry of glob(pattern, { withFileTypes: true })) {
    const path = `${entry.parentPath}${sep}${entry.name}`;
    // Directories can match `**`; symlinks are followed to see what they point to.
    if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path)).isFile())) {
      files.push({ path, key: relative(base, path).split(sep).join('/') });
    }
  }
  files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { base, files };
}

const SAMPLE = 64 * 1024;

/**
 * Size, mtime and a hash of the first and last 64 KiB: two small reads per file, so checking
 * thousands of unchanged files stays cheap. Also tells whether the content is gzip (magic bytes
 * 1f 8b, RFC 1952 §2.3.1), whatever the file is called.
 */
export async function probe(path: string): Promise<{ fingerprint: Fingerprint; gzip: boolean }> {
  const fh = await open(path, 'r');
  try {
    const s = await fh.stat();
    const hash = createHash('sha256');
    const head = Buffer.alloc(Math.min(SAMPLE, s.size));
    await fh.read(head, 0, head.length, 0);
    hash.update(head);
    if (s.size > SAMPLE) {
      const tail = Buffer.alloc(Math.min(SAMPLE, s.size - SAMPLE));
      await fh.read(tail, 0, tail.length, s.size - tail.length);
      hash.update(tail);
    }
    const gzip = path.endsWith('.gz') || (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b);
    return { fingerprint: { size: s.size, mtime: s.mtimeMs, sample: hash.digest('base64url') }, gzip };
  } finally {
    await fh.close();
  }
}

/**
 * The file's lines, in chunks (one array per read buffer: far cheaper than an await per line).
 * LF and CRLF line ends; a UTF-8 byte-order mark is dropped; the last line may lack its newline.
 * Breaking out of the loop closes the file.
 */
export async function* readLines(path: string, options: { gzip: boolean; signal?: AbortSignal }): AsyncGenerator<string[]> {
  const file = createReadStream(path, { highWaterMark: 1 << 20, signal: options.signal });
  const input: Readable = options.gzip ? pipeline(file, createGunzip(), () => {}) : file;
  input.setEncoding('utf8');
  let rest = '';
  let first = true;
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      let text = rest + chunk;
      if (first) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
      }
      if (lines.length > 0) yield lines;
    }
    if (rest !== '') yield [rest.endsWith('\r') ? rest.slice(0, -1) : rest];
  } catch (error) {
    throw new FileReadError(error);
  } finally {
    input.destroy();
    file.destroy();
  }
}
