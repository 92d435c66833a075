// PLACEHOLDER: filled in by the cx work (see core/analytics/types.ts for the contract).
import type { AnalyticsContext, ResultRow } from './types.ts';

export async function computeCx(_ctx: AnalyticsContext): Promise<ResultRow[]> {
  return [];
}
