// The public entry point for connector authors (`import … from 'touchpoint/sdk'`): the contract types,
// the defaulting factories, the error family, and the runtime helpers a stream's `read` uses. Anything
// not exported here is the engine's business and may change without an SDK version bump.
export { SDK_VERSION, SUPPORTED_SDK_VERSIONS } from './types.ts';
export type {
  CanonicalEvent,
  CanonicalRows,
  ConnectorDefinition,
  CursorSpec,
  EventKind,
  HttpClient,
  HttpDefaults,
  HttpRequest,
  HttpResponse,
  Identifier,
  IdentifierLink,
  JsonObject,
  JsonSchema,
  JsonValue,
  Logger,
  MapContext,
  QueryValue,
  ReadContext,
  RecordBatch,
  ResponseClassifier,
  ResponseVerdict,
  RetryPolicy,
  SpendRow,
  StreamDefinition,
  StreamState,
} from './types.ts';
export { assertConnector, assertStream, defineConnector, defineStream, sdkMismatch } from './define.ts';
export type { ConnectorInput } from './define.ts';
export { AuthError, CancelledError, ConfigError, QuotaError, RunError, TouchpointError } from '../errors.ts';
export { DEFAULT_RETRY_POLICY, HttpError, createHttpClient, parseRetryAfter, retryingFetch } from './http.ts';
export type { HttpClientOptions, RetryingFetchOptions, Sleep } from './http.ts';
export { advance, compareCursor, parseDuration, startFrom, subtractDuration } from './cursor.ts';
export type { CursorValue, Duration, StartFromInput } from './cursor.ts';
export { createRecordValidator, cursorValue, recordPk } from './records.ts';
export type { RecordValidator } from './records.ts';
export { createLogger } from './log.ts';
export type { ConformanceHarness, ConformanceHarnessFactory, InjectedFailure } from './conformance.ts';
export { createTestContext, TEST_RETRY_POLICY } from './testing.ts';
export type { CapturedLog, TestContext, TestContextOverrides } from './testing.ts';
export { loadDeclarativeConnector } from './declarative/load.ts';
export type { LogFormat, LogLevel, LoggerOptions } from './log.ts';
