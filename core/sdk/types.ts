// The connector contract: what a connector plugin gives the engine and what the engine gives it back.
// Few required members, optional capabilities as optional members. A connector never writes SQL: its
// streams yield record batches and map each record to canonical rows (DESIGN.md, "The canonical model").

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
/** A JSON Schema (draft 2020-12 subset that ajv understands). */
export type JsonSchema = { [key: string]: unknown };

/** SDK contract version. A plugin declares the version it was written for (`sdkVersion`). */
export const SDK_VERSION = 1;

// ---- canonical rows ---------------------------------------------------------------------------

export interface Identifier {
  /** email, phone, user_id, ga_client_id, hubspot_contact_id, gclid, fbclid, or a custom type. */
  type: string;
  value: string;
}

export type EventKind = 'touch' | 'conversion' | 'other';

export interface CanonicalEvent {
  /** Unique within the stream; the engine prefixes source and stream to make the stored event_id. */
  id: string;
  /** ISO 8601 timestamp; stored as UTC. */
  occurred_at: string;
  kind: EventKind;
  /** page_view, ad_click, form_submit, call, email, chat, purchase, deal_won … */
  name: string;
  channel?: string | null;
  source_medium?: string | null;
  campaign_id?: string | null;
  campaign?: string | null;
  value?: number | null;
  currency?: string | null;
  session_id?: string | null;
  /** Device category and similar segment attributes. */
  device?: string | null;
  /** Identifiers seen on this event: they attach the event to a person and link to each other. */
  identifiers?: Identifier[];
  /** Anything else worth keeping (page path, deal stage …). */
  properties?: JsonObject;
}

/** Identifiers seen together on one record: the edges of the identity graph. */
export interface IdentifierLink {
  /** Unique within the stream; defaults to the record's primary key. */
  id?: string;
  identifiers: Identifier[];
  /** When they were seen together (ISO 8601). */
  observed_at?: string | null;
}

export interface SpendRow {
  /** YYYY-MM-DD in the ad account's time zone. */
  date: string;
  channel: string;
  campaign_id: string;
  campaign?: string | null;
  cost: number;
  currency: string;
  clicks?: number | null;
  impressions?: number | null;
}

export interface CanonicalRows {
  events?: CanonicalEvent[];
  links?: IdentifierLink[];
  spend?: SpendRow[];
}

// ---- reading -----------------------------------------------------------------------------------

/** A stream's incremental state: whatever the stream needs to resume (cursor value, files seen …). */
export type StreamState = JsonObject;

export interface RecordBatch<R = JsonObject> {
  records: R[];
  /**
   * The state to commit once this batch is durably stored, in the same transaction. A stream that
   * stops after this batch resumes from here: no gaps, and upserts by primary key mean no duplicates.
   */
  state?: StreamState;
  /**
   * Input the connector could not even turn into a record (a corrupt CSV row, a line that is not
   * JSON). It goes to quarantine with the reason (name the file and line); it is never dropped.
   */
  rejected?: { reason: string; record: unknown }[];
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type QueryValue = string | number | boolean | undefined | null;

export interface HttpRequest {
  method?: string;
  /** Absolute URL, or relative to the client's baseUrl (joined as `baseUrl/url`, never replacing its path). */
  url: string;
  /** Appended to the URL; undefined and null are skipped, arrays repeat the key (`a=1&a=2`). */
  query?: Record<string, QueryValue | readonly QueryValue[]>;
  headers?: Record<string, string>;
  /** Plain objects and arrays are sent as JSON; strings, URLSearchParams, Blob and bytes as they are. */
  body?: unknown;
  /** Per-attempt timeout in ms (defaults to the retry policy's). */
  timeoutMs?: number;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response says it is JSON, else the text; null when empty. */
  body: T;
}

/**
 * A connector's reading of a non-2xx response the generic rules get wrong: a 429 whose body says a
 * DAILY limit is a quota (stop, say when it resets), a 400 that a vendor uses for "try again" is
 * transient. Return undefined to keep the default handling.
 */
export type ResponseVerdict =
  | { kind: 'transient'; retryAfterMs?: number; message?: string }
  | { kind: 'quota'; resetsAt?: Date; quota?: string; message?: string }
  | { kind: 'auth'; message?: string }
  | { kind: 'terminal'; message?: string };

/** Called for non-2xx responses only, with the body already read (parsed JSON, text, or null). */
export type ResponseClassifier = (response: Response, body: unknown) => ResponseVerdict | undefined;

/** What a connector layers over the engine's client: its API root, auth headers, vendor rules. */
export interface HttpDefaults {
  baseUrl?: string;
  headers?: Record<string, string>;
  classify?: ResponseClassifier;
}

export interface HttpClient {
  request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>>;
  get<T = unknown>(url: string, query?: HttpRequest['query'], headers?: Record<string, string>): Promise<HttpResponse<T>>;
  post<T = unknown>(url: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResponse<T>>;
  /** The same client (policy, signal, log, source/stream) with more defaults; headers merge. */
  extend(defaults: HttpDefaults): HttpClient;
  /**
   * A `fetch` under the same retry policy, for vendor client libraries (gaxios `fetchImplementation`
   * …). It returns the vendor's final response for the library to read; see `retryingFetch`.
   */
  fetch: typeof fetch;
}

export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  /** Base delay for exponential backoff (ms). */
  baseDelayMs: number;
  /** Upper bound of one wait (ms), Retry-After included. */
  maxDelayMs: number;
  /** Per-attempt timeout (ms). */
  timeoutMs: number;
}

export interface ReadContext<C = JsonObject> {
  /** The source name from the pipeline (e.g. `crm`). */
  source: string;
  stream: string;
  /** This source's config, secrets resolved. Never log it. */
  config: C;
  /** The last committed state of this stream, or `{}` on a first or full-refresh run. */
  state: StreamState;
  fullRefresh: boolean;
  /** HTTP with retry/backoff/Retry-After, bounded attempts and timeouts; errors name this source/stream. */
  http: HttpClient;
  /** Redacts secrets; never pass config objects to it whole. */
  log: Logger;
  signal: AbortSignal;
  /** Resolves relative paths (file sources) against the pipeline file's folder. */
  resolvePath(path: string): string;
  /** The pipeline's options this stream may honour (e.g. start date). */
  options: { startDate?: string; retry: RetryPolicy; /** Records per batch the pipeline asks for (settings.batchSize). */ batchSize?: number };
}

export interface MapContext<C = JsonObject> {
  source: string;
  stream: string;
  config: C;
}

export interface CursorSpec {
  /** Record field holding the cursor (updated_at, date …). */
  field: string;
  /** Value to start from on the first run (ISO date/time). */
  initial?: string;
  /** Re-read this far back from the last cursor to catch late data (ISO 8601 duration, e.g. P3D). */
  lookback?: string;
}

export interface StreamDefinition<C = JsonObject, R = JsonObject> {
  name: string;
  description?: string;
  /** Record fields that identify a record; raw tables are upserted on them. */
  primaryKey: string[];
  cursor?: CursorSpec;
  /** JSON Schema every record must match; a record that does not goes to quarantine. */
  schema: JsonSchema;
  read(ctx: ReadContext<C>): AsyncIterable<RecordBatch<R>>;
  /** Pure: one record to zero or more canonical rows. Omit for streams kept raw only. */
  map?(record: R, ctx: MapContext<C>): CanonicalRows;
}

export interface ConnectorDefinition<C = JsonObject> {
  name: string;
  version: string;
  /** The SDK contract version this connector was written for. */
  sdkVersion: number;
  description?: string;
  /** JSON Schema of the source's `config:` block. Secret fields carry `"x-secret": true`. */
  configSchema: JsonSchema;
  /** Fixed streams, or streams that depend on the config (the file connector's are user-declared). */
  streams: StreamDefinition<C, any>[] | ((config: C) => StreamDefinition<C, any>[]);
  /** Optional: a cheap call that proves the credentials work (`touchpoint validate --check`). */
  check?(ctx: Omit<ReadContext<C>, 'stream' | 'state' | 'fullRefresh'>): Promise<void>;
}
