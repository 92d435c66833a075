// The shape of bench/results/<date>-<size>-<store>.json and the targets checked against it
// (issue #8: benchmarks, not tests — a MISS is printed and recorded, never thrown). Pure.
import type { ReferenceResult } from './reference.ts';
import type { Size, StoreKind } from './args.ts';

export interface StageResult {
  name: string;
  status: 'done' | 'failed' | 'skipped';
  ms: number;
  cpuMs: number;
  /** What the stage works through (see `unit`), for rows/s. */
  rows: number;
  unit: string;
  rowsPerSecond: number;
  peakRssBytes: number;
  note?: string;
  summary?: Record<string, unknown>;
}

export interface TargetCheck {
  name: string;
  target: string;
  value: string;
  status: 'PASS' | 'MISS' | 'n/a';
  note?: string;
}

export interface BenchResult {
  version: 1;
  date: string;
  size: Size;
  store: StoreKind;
  storeUrl: string;
  machine: { cpus: number; totalMemoryBytes: number; node: string; loadBefore: string; loadAfter: string; baselineRssBytes: number };
  world: { people: number; seed: number; data: string; generateMs: number | null; files: number; records: number; events: number; observations: number; persons: number; journeys: number };
  concurrency: number;
  duckdbMemoryLimit: string | null;
  stages: StageResult[];
  /** The full run, generate excluded, reports included. */
  total: { ms: number; peakRssBytes: number };
  references: Partial<Record<'duckdbRead' | 'pgCopy' | 'unionFind', ReferenceResult | { error: string }>>;
  ratios: Record<string, number | null>;
  incremental: { share: number; newEvents: number; ms: number; peakRssBytes: number; ratioToFull: number; stages: StageResult[] } | null;
  targets: TargetCheck[];
}

const GB = 1024 ** 3;

export function stageResult(name: string, m: { ms: number; cpuMs: number; peakRssBytes: number }, rows: number, unit: string, status: StageResult['status'] = 'done', note?: string): StageResult {
  return { name, status, ms: Math.round(m.ms), cpuMs: Math.round(m.cpuMs), rows, unit, rowsPerSecond: m.ms > 0 ? Math.round((rows / m.ms) * 1000) : 0, peakRssBytes: m.peakRssBytes, note };
}

const refMs = (r: BenchResult['references'][keyof BenchResult['references']]): number | undefined => (r && 'ms' in r ? r.ms : undefined);
const ratio = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined || b <= 0 ? null : Math.round((a / b) * 100) / 100);

/** Ours / reference, by what they compare. */
export function ratios(r: Pick<BenchResult, 'stages' | 'total' | 'references'>): Record<string, number | null> {
  const stage = (name: string) => r.stages.find((s) => s.name === name && s.status === 'done')?.ms;
  return {
    endToEndVsDuckdbRead: ratio(r.total.ms, refMs(r.references.duckdbRead)),
    loadVsDuckdbRead: ratio(stage('extract+load'), refMs(r.references.duckdbRead)),
    loadVsPgCopy: ratio(stage('extract+load'), refMs(r.references.pgCopy)),
    identityVsUnionFind: ratio(stage('identity'), refMs(r.references.unionFind)),
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const gb = (bytes: number) => `${(bytes / GB).toFixed(2)} GB`;

/**
 * The targets. Each applies to one size and store; elsewhere it is `n/a` with the figure
 * still shown. `previousS`: the newest S result on the same store, for the scaling target.
 */
export function checkTargets(r: Omit<BenchResult, 'targets'>, previousS?: Pick<BenchResult, 'total' | 'world' | 'date'>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const check = (name: string, target: string, applies: boolean, value: number | null, limit: number, shown: string, note?: string) =>
    checks.push({ name, target, value: shown, status: !applies || value === null ? 'n/a' : value <= limit ? 'PASS' : 'MISS', note });
  const e2e = r.ratios.endToEndVsDuckdbRead ?? null;
  check('M end to end vs DuckDB plain read (embedded store)', '≤ 2.0×', r.size === 'M' && r.store === 'duckdb', e2e, 2, e2e === null ? 'no reference' : `${e2e}× (${seconds(r.total.ms)} vs ${seconds(refMs(r.references.duckdbRead) ?? 0)})`);
  const peakLimit = r.size === 'L' && r.store === 'postgres' ? 1 : 1.5;
  check(`peak RSS (${r.size === 'L' ? 'L on PostgreSQL' : 'whole process'})`, `≤ ${peakLimit} GB`, r.size !== 'L' || r.store === 'postgres', r.total.peakRssBytes / GB, peakLimit, gb(r.total.peakRssBytes));
  if (r.size === 'M') {
    const scale = previousS ? r.total.ms / previousS.total.ms : null;
    const events = previousS ? r.world.events / previousS.world.events : null;
    check(
      'time(M) / time(S), same store',
      '≤ 12',
      previousS !== undefined,
      scale,
      12,
      scale === null ? `no S result for ${r.store} in the results folder` : `${scale.toFixed(1)} (events ×${events!.toFixed(1)}; S from ${previousS!.date})`,
    );
  } else {
    check('time(M) / time(S), same store', '≤ 12', false, null, 12, 'checked on the M run');
  }
  const inc = r.incremental?.ratioToFull ?? null;
  check('incremental re-run (+1% events) vs full run', '≤ 10%', r.incremental !== null, inc, 0.1, inc === null ? 'not run' : `${(inc * 100).toFixed(1)}% (${seconds(r.incremental!.ms)} vs ${seconds(r.total.ms)})`);
  const completed = r.stages.every((s) => s.status !== 'failed');
  checks.push({
    name: 'L on PostgreSQL completes (peak RSS ≤ 1 GB)',
    target: 'completes',
    value: r.size === 'L' && r.store === 'postgres' ? (completed ? 'completed' : 'failed') : 'only on L/postgres',
    status: r.size === 'L' && r.store === 'postgres' ? (completed && r.total.peakRssBytes <= GB ? 'PASS' : 'MISS') : 'n/a',
  });
  return checks;
}

export function resultFileName(date: Date, size: Size, store: StoreKind): string {
  return `${date.toISOString().slice(0, 10)}-${size}-${store}.json`;
}
