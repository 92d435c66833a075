// The report stage of the benchmark: reports/cx.yaml and reports/roi.yaml rendered (HTML and PDF,
// one shared browser) against the bench store through core/report/run.ts `runReport`, with the
// bench pipeline in place of the demo pipeline they name. runReport computes its period's analytics
// first, as `touchpoint report` does, so that cost is part of the stage.
import { join } from 'node:path';
import type { LoadedPipeline } from '../core/config/types.ts';
import { launchBrowser } from '../core/report/pdf.ts';
import { runReport } from '../core/report/run.ts';
import { loadReportSpec } from '../core/report/spec.ts';
import type { Logger } from '../core/sdk/types.ts';
import type { Store } from '../core/store/types.ts';

export const BENCH_REPORTS = ['reports/cx.yaml', 'reports/roi.yaml'];

export interface ReportStageResult {
  status: 'done' | 'failed';
  rendered: number;
  note?: string;
}

export async function renderReports(store: Store, o: { pipeline: LoadedPipeline; out: string; root: string; log: Logger }): Promise<ReportStageResult> {
  let rendered = 0;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  try {
    browser = await launchBrowser(process.env);
    for (const file of BENCH_REPORTS) {
      const spec = loadReportSpec(join(o.root, file), { env: process.env, cwd: o.root });
      await runReport({ spec, store, pipeline: o.pipeline, outDir: o.out, formats: ['html', 'pdf'], browser, log: o.log, cwd: o.root });
      rendered++;
    }
    return { status: 'done', rendered };
  } catch (error) {
    return { status: 'failed', rendered, note: String((error as Error).message).split('\n')[0] };
  } finally {
    await browser?.close();
  }
}
