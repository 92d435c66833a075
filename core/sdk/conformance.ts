// The conformance contract a connector offers the kit (`touchpoint connector test`): a file
// `fake/conformance.ts` (or `.js` in a published package) whose default export starts the
// connector's local fake and says how to use it — a valid config pointing at it, the secret values
// in that config, and how to make the fake fail. The kit starts a fresh harness for every scenario
// (a baseline read, a second incremental run, 401, 429, 5xx), so a harness never needs a reset.
import type { JsonObject } from './types.ts';

/** Make the fake answer the next `times` API requests (not token requests) with this instead. */
export interface InjectedFailure {
  status: number;
  headers?: Record<string, string>;
  /** The vendor's error body; the harness may fill in a realistic one when absent. */
  body?: unknown;
  times: number;
}

export interface ConformanceHarness<C = JsonObject> {
  /** A complete, valid source config that points the connector at the fake. */
  config: C;
  /** Every credential value in `config`: none may ever show up in logs, console output or errors. */
  secrets: string[];
  /** The streams to exercise (default: every stream the connector offers for `config`). */
  streams?: string[];
  /** The pipeline's settings.startDate to read with, when the connector needs one. */
  startDate?: string;
  /**
   * Makes the fake fail. Leave it out for connectors that make no HTTP calls (files): the 401, 429
   * and 5xx checks then show as not applicable.
   */
  fail?(failure: InjectedFailure): void;
  /** Stops the fake (every socket closed). */
  close(): Promise<void>;
}

/** What `fake/conformance.ts` exports as its default: `dir` is the connector's folder. */
export type ConformanceHarnessFactory<C = JsonObject> = (options: { dir: string }) => Promise<ConformanceHarness<C>>;
