// PLACEHOLDER: filled in by the roi work (see core/analytics/types.ts for the contract).
import type { AnalyticsContext, ResultRow } from './types.ts';

export async function computeRoi(_ctx: AnalyticsContext): Promise<ResultRow[]> {
  return [];
}
