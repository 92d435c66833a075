// PLACEHOLDER: filled in by the attribution work (see core/analytics/types.ts for the contract).
import type { AnalyticsContext, ResultRow } from './types.ts';

export async function computeAttribution(_ctx: AnalyticsContext): Promise<ResultRow[]> {
  return [];
}
