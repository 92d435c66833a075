// `touchpoint connector test`: loads a connector (built-in, package or path), starts its harness
// (fake/conformance.ts, see core/sdk/conformance.ts) and runs every check of checks.ts against it —
// config schema, then per stream a first and a second (incremental) read, then 401, 429 and 5xx
// scenarios on the first stream, each on a freshly started fake, and finally a grep of everything
// printed for the secret values. Returns a report; rendering is the CLI's business.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConformanceHarness, ConformanceHarnessFactory, InjectedFailure } from '../../sdk/conformance.ts';
import type { ConnectorDefinition, StreamDefinition } from '../../sdk/types.ts';
import { streamsOf } from '../extract.ts';
import { ConnectorRegistry } from '../registry.ts';
import { createCapture, leakedSecrets } from './capture.ts';
import type { Capture } from './capture.ts';
import * as checks from './checks.ts';
import type { CheckResult } from './checks.ts';
import { readStream } from './read.ts';
import type { ReadResult } from './read.ts';

export type { CheckResult, CheckStatus } from './checks.ts';

export interface ConformanceReport {
  connector: string;
  version?: string;
  /** Where it was loaded from. */
  entry?: string;
  ok: boolean;
  checks: CheckResult[];
}

export interface ConformanceOptions {
  /** Where `touchpoint-connector-*` packages and relative paths are looked up (default: cwd). */
  cwd?: string;
  /** Per read (default 60 s). */
  timeoutMs?: number;
}

const HARNESS_FILES = ['fake/conformance.ts', 'fake/conformance.js', 'fake/conformance.mjs'];

/** `fake/conformance.*` beside the entry, or one folder up (a package whose entry is dist/index.js). */
export function findHarness(entry: string): string | undefined {
  const dir = dirname(entry);
  for (const base of [dir, dirname(dir)]) {
    for (const f of HARNESS_FILES) if (existsSync(join(base, f))) return join(base, f);
  }
  return undefined;
}

/** Runs the kit on a connector name (`hubspot`) or a path (`./my-connector`, `connector.yaml`). */
export async function runConformance(target: string, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, target);
  const registry = new ConnectorRegistry({ cwd });
  const name = existsSync(path) && (target.includes('/') || target.includes('.') || !registry.has(target)) ? registry.addPlugin(path) : target;
  const report: ConformanceReport = { connector: name, ok: false, checks: [] };
  const add = (...r: CheckResult[]) => report.checks.push(...r);
  let connector: ConnectorDefinition<any>;
  try {
    connector = await registry.load(name);
  } catch (error) {
    add({ check: 'loads', status: 'fail', detail: error instanceof Error ? `${error.message}${'hint' in error && error.hint ? ` (${String(error.hint)})` : ''}` : String(error) });
    return report;
  }
  const entry = registry.entry(name)!.entry;
  Object.assign(report, { connector: connector.name, version: connector.version, entry });
  add({ check: 'loads', status: 'pass', detail: `${connector.name} ${connector.version}, SDK v${connector.sdkVersion}` });

  const harnessFile = findHarness(entry);
  if (!harnessFile) {
    add(checks.checkConfigDocumented(connector.configSchema));
    add({ check: 'fake harness', status: 'fail', detail: `no fake/conformance.ts beside ${entry}: see docs/connectors.md, "The conformance kit"` });
    return finish(report);
  }
  const mod = (await import(pathToFileURL(harnessFile).href)) as { default?: ConformanceHarnessFactory; startConformance?: ConformanceHarnessFactory };
  const factory = mod.default ?? mod.startConformance;
  if (typeof factory !== 'function') {
    add({ check: 'fake harness', status: 'fail', detail: `${harnessFile} must export default async ({ dir }) => ConformanceHarness` });
    return finish(report);
  }
  const dir = dirname(entry);
  const capture = createCapture();
  const secrets = new Set<string>();
  const errors: string[] = [];
  const start = async (): Promise<ConformanceHarness> => {
    const h = await factory({ dir });
    for (const s of h.secrets) secrets.add(s);
    return h;
  };
  const read = async (h: ConformanceHarness, stream: StreamDefinition<any, any>, state?: ReadResult['states'][number]) => {
    const r = await readStream({ harness: h, stream, capture, dir, state, timeoutMs: options.timeoutMs });
    if (r.error) errors.push(describeError(r.error));
    return r;
  };

  const h = await start();
  let first: ReadResult | undefined;
  let errorStream: StreamDefinition<any, any> | undefined;
  try {
    add(checks.checkConfigSchema(connector.configSchema, h.config));
    add(checks.checkConfigDocumented(connector.configSchema));
    const streams = streamsOf(connector, { name: 'conformance', connector: connector.name, config: h.config, streams: h.streams });
    for (const stream of streams) {
      const a = await read(h, stream);
      const b = await read(h, stream, a.states.at(-1));
      add(
        checks.checkRecords(stream, a),
        checks.checkPrimaryKeys(stream, a),
        checks.checkMapping(stream, a, h.config),
        checks.checkStateForward(stream, a, b),
        checks.checkSecondRun(stream, a, b, h.startDate),
      );
      if (!errorStream && !a.error && a.records.length > 0) [errorStream, first] = [stream, a];
    }
  } catch (error) {
    add({ check: 'streams', status: 'fail', detail: describeError(error) });
  } finally {
    await h.close();
  }

  if (!h.fail) {
    for (const check of ['401 → AuthError', '429 Retry-After honoured', '5xx retried']) add({ check, status: 'n/a', detail: 'the harness makes no HTTP calls' });
  } else if (errorStream && first) {
    const s = errorStream;
    const scenario = async (failure: InjectedFailure) => {
      const x = await start();
      try {
        x.fail!(failure);
        return await read(x, s);
      } finally {
        await x.close();
      }
    };
    add(checks.checkUnauthorized(s.name, await scenario({ status: 401, times: 50 })));
    add(checks.checkRateLimited(s.name, first, await scenario({ status: 429, headers: { 'retry-after': '2' }, times: 1 })));
    add(checks.checkServerError(s.name, first, await scenario({ status: 503, times: 2 })));
  }
  add(secretsCheck(capture, [...secrets], errors));
  return finish(report);
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const hint = 'hint' in error && error.hint ? ` (hint: ${String(error.hint)})` : '';
  return `${error.name}: ${error.message}${hint}`;
}

function secretsCheck(capture: Capture, secrets: string[], errors: string[]): CheckResult {
  const check = 'secrets never logged';
  if (secrets.length === 0) return { check, status: 'n/a', detail: 'the harness declares no secrets' };
  const leaked = leakedSecrets([...capture.lines, ...errors], secrets);
  if (leaked.length > 0) {
    return { check, status: 'fail', detail: `secret #${leaked.map((i) => i + 1).join(', #')} of the harness appeared in log lines, console output or error messages` };
  }
  return { check, status: 'pass', detail: `${capture.lines.length} log lines and ${errors.length} errors checked for ${secrets.length} secret values` };
}

function finish(report: ConformanceReport): ConformanceReport {
  report.ok = report.checks.every((c) => c.status !== 'fail');
  return report;
}
