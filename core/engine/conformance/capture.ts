// Everything a connector could print while the kit reads: its logger's lines written raw (the engine's
// redaction is deliberately left out, so a connector that hands a secret to the logger is caught
// rather than saved by the mask), console calls and direct writes to stdout/stderr. The kit greps all
// of it for the harness's secret values.
import { format } from 'node:util';
import { createLogger } from '../../sdk/log.ts';
import type { Logger } from '../../sdk/types.ts';

export interface Capture {
  /** A logger writing into `lines` with no secret values to mask. */
  log: Logger;
  lines: string[];
  /** Runs `work` with console and process output captured into `lines`. */
  during<T>(work: () => Promise<T>): Promise<T>;
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

export function createCapture(): Capture {
  const lines: string[] = [];
  const log = createLogger({ secrets: [], level: 'debug', format: 'json', write: (line) => lines.push(line) });
  async function during<T>(work: () => Promise<T>): Promise<T> {
    const saved = CONSOLE_METHODS.map((m) => [m, console[m]] as const);
    const out = process.stdout.write;
    const err = process.stderr.write;
    for (const m of CONSOLE_METHODS) console[m] = (...args: unknown[]) => void lines.push(format(...args));
    const grab = (chunk: unknown): boolean => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return true;
    };
    process.stdout.write = grab as typeof process.stdout.write;
    process.stderr.write = grab as typeof process.stderr.write;
    try {
      return await work();
    } finally {
      for (const [m, fn] of saved) console[m] = fn;
      process.stdout.write = out;
      process.stderr.write = err;
    }
  }
  return { log, lines, during };
}

/** The secret values found in `texts` (each reported once, never the value itself). */
export function leakedSecrets(texts: readonly string[], secrets: readonly string[]): number[] {
  const found: number[] = [];
  secrets.forEach((secret, i) => {
    if (secret.length >= 4 && texts.some((t) => t.includes(secret))) found.push(i);
  });
  return found;
}
