// One read of one stream the way the engine reads it, minus the store: the real retrying HTTP client
// (its waits recorded, not slept), the raw capturing logger, a state carried in, and a time limit so
// a connector that loops forever fails the kit instead of hanging CI.
import { createTestContext } from '../../sdk/testing.ts';
import type { ConformanceHarness } from '../../sdk/conformance.ts';
import type { JsonObject, StreamDefinition, StreamState } from '../../sdk/types.ts';
import type { Capture } from './capture.ts';

export interface ReadResult {
  records: JsonObject[];
  /** The state of every batch that carried one, in order. */
  states: StreamState[];
  rejected: number;
  error?: unknown;
  /** Waits the retry policy asked for (ms). */
  sleeps: number[];
}

export interface ReadOptions {
  harness: ConformanceHarness;
  stream: StreamDefinition<any, any>;
  capture: Capture;
  dir: string;
  state?: StreamState;
  timeoutMs?: number;
}

export async function readStream(o: ReadOptions): Promise<ReadResult> {
  const ctx = createTestContext<JsonObject>({
    source: 'conformance',
    stream: o.stream.name,
    config: o.harness.config,
    secrets: o.harness.secrets,
    state: o.state ?? {},
    startDate: o.harness.startDate,
    log: o.capture.log.child({ stream: o.stream.name }),
    dir: o.dir,
    retry: { maxAttempts: 4 },
  });
  const result: ReadResult = { records: [], states: [], rejected: 0, sleeps: ctx.sleeps };
  const limit = o.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, fail) => {
    timer = setTimeout(() => {
      ctx.controller.abort(new Error('timed out'));
      fail(new Error(`the read did not finish within ${limit / 1000} s`));
    }, limit);
  });
  try {
    await o.capture.during(() =>
      Promise.race([
        (async () => {
          for await (const batch of o.stream.read(ctx)) {
            result.records.push(...(batch.records as JsonObject[]));
            result.rejected += batch.rejected?.length ?? 0;
            if (batch.state) result.states.push(structuredClone(batch.state));
          }
        })(),
        timedOut,
      ]),
    );
  } catch (error) {
    result.error = error;
  } finally {
    clearTimeout(timer);
  }
  return result;
}
