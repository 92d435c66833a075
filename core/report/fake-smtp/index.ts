// Starts fake-smtp/server.ts as a child process and follows what it receives, for delivery tests: a
// real SMTP conversation over TCP with a real server, not a mocked transport. `parseMessage` reads
// a saved message back (headers, decoded parts) — a minimal MIME reader, enough for what
// nodemailer writes (multipart/mixed|alternative, base64, quoted-printable, 7bit).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface ReceivedMessage {
  file: string;
  from: string;
  to: string[];
}

export interface FakeSmtp {
  port: number;
  /** smtp://[user:pass@]127.0.0.1:port */
  url: string;
  messages: ReceivedMessage[];
  rejected: number;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  stop(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

export interface FakeSmtpOptions {
  /** Refuse the first N messages… */
  rejectFirst?: number;
  /** …or these (1-based sequence numbers over all messages received). */
  reject?: number[];
  /** Reply code of the refusals (default 451: temporary). */
  rejectCode?: number;
  auth?: { user: string; pass: string };
}

export async function startFakeSmtp(options: FakeSmtpOptions = {}): Promise<FakeSmtp> {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-smtp-'));
  const refused = options.reject ?? Array.from({ length: options.rejectFirst ?? 0 }, (_, i) => i + 1);
  const config = { dir, reject: refused, rejectCode: options.rejectCode, auth: options.auth };
  const child: ChildProcess = spawn(process.execPath, [SERVER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: ReceivedMessage[] = [];
  const listeners: (() => void)[] = [];
  let rejected = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`fake SMTP server exited (${code}) before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event: string; port?: number } & ReceivedMessage;
      if (event.event === 'listening') resolve(event.port!);
      if (event.event === 'rejected') rejected++;
      if (event.event === 'message') {
        messages.push({ file: event.file, from: event.from, to: event.to });
        for (const l of listeners) l();
      }
    });
  });
  const auth = options.auth ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@` : '';
  return {
    port,
    url: `smtp://${auth}127.0.0.1:${port}`,
    messages,
    get rejected() {
      return rejected;
    },
    waitFor(count, timeoutMs = 10_000) {
      if (messages.length >= count) return Promise.resolve(messages.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} message(s), got ${messages.length}`)), timeoutMs);
        listeners.push(() => {
          if (messages.length >= count) {
            clearTimeout(timer);
            resolve(messages.slice());
          }
        });
      });
    },
    async stop() {
      child.removeAllListeners('exit');
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface MimePart {
  headers: Record<string, string>;
  /** Decoded body (leaf parts). */
  body: Buffer;
  parts: MimePart[];
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.replace(/\r\n[ \t]+/g, ' ').split(/\r\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

function decodeQuotedPrintable(text: string): Buffer {
  const soft = text.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(soft.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes);
}

export function parseMime(raw: string): MimePart {
  const split = raw.indexOf('\r\n\r\n');
  const headers = parseHeaders(split < 0 ? raw : raw.slice(0, split));
  const body = split < 0 ? '' : raw.slice(split + 4);
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.toLowerCase().startsWith('multipart/') && boundary) {
    const chunks = body.split(`--${boundary}`).slice(1);
    const parts = chunks.filter((c) => !c.startsWith('--')).map((c) => parseMime(c.replace(/^\r\n/, '').replace(/\r\n$/, '')));
    return { headers, body: Buffer.alloc(0), parts };
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const decoded = encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64') : encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : Buffer.from(body, 'latin1');
  return { headers, body: decoded, parts: [] };
}

/** Every leaf part, depth first. */
export function leaves(part: MimePart): MimePart[] {
  return part.parts.length === 0 ? [part] : part.parts.flatMap(leaves);
}

/** Decodes an RFC 2047 encoded-word header (=?UTF-8?B?…?= / =?UTF-8?Q?…?=). */
export function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')).toString('utf8'),
    );
}

export function readMessage(file: string): MimePart {
  return parseMime(readFileSync(file, 'latin1'));
}
