// The stages after extract/load, in order. Each reads what the stage before it committed and
// replaces or upserts its own output, so any stage can be re-run alone (`run --only identity`).
// Later stages register here; the runner knows nothing about what they do.
import type { LoadedPipeline } from '../config/types.ts';
import type { Logger } from '../sdk/types.ts';
import type { Store } from '../store/types.ts';
import { identityStage } from '../identity/stage.ts';
import { journeysStage } from '../journeys/stage.ts';
import { analyticsStage } from '../analytics/stage.ts';

export interface StageContext {
  store: Store;
  pipeline: LoadedPipeline;
  runId: string;
  log: Logger;
  signal: AbortSignal;
  /** `run --full-refresh`: true (everything) or the streams named; a stage recomputes all its output when true. */
  fullRefresh?: boolean | string[];
}

export interface Stage {
  name: string;
  description: string;
  /** Returns a small summary (counts) for the run ledger and the CLI. */
  run(ctx: StageContext): Promise<Record<string, unknown>>;
}

/** All stages a run can have, in order. `extract` is built into the runner. */
export const STAGE_NAMES = ['extract'] as const;

export const stages: Stage[] = [identityStage, journeysStage, analyticsStage];

export function stageNames(): string[] {
  return [...STAGE_NAMES, ...stages.map((s) => s.name)];
}
