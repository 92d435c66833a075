// PLACEHOLDER: filled in by the paths work (see core/analytics/types.ts for the contract).
import type { AnalyticsContext, ResultRow } from './types.ts';

export async function computePaths(_ctx: AnalyticsContext): Promise<ResultRow[]> {
  return [];
}
