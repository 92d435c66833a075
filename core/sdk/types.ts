// The connector contract: what a connector plugin gives the engine and what the engine gives it back.
// Few required members, optional capabilities as optional members. A connector never writes SQL: its
// streams yield record batches and map each record to canonical rows (DESIGN.md, "The canonical model").

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
/** A JSON Schema (draft 2020-12 subset that ajv understands). */
export type JsonSchema = { [key: string]: unknown };

/** SDK contract version. A plugin declares the version it was written for (`sdkVersion`). */
export const SDK_VERSION = 1;
/**
 * The contract versions this engine loads. A version stays here while the engine still honours it;
 * an incompatible change raises SDK_VERSION and drops the old one (docs/connectors.md, "Versioning").
 */
export const SUPPORTED_SDK_VERSIONS: readonly number[] = [1];

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
  /**
   * Optional capability: load the stream inside the store, set-based, instead of record by record
   * through `read` and `map` (the file connector does this with DuckDB's own file readers). The
   * engine calls it first when the store supports it. Resolve undefined when it cannot here (the
   * engine then reads normally), or with what it loaded; `rest: true` hands what is left to `read`.
   * It must store exactly what `read` + `map` would, and keep the same state shape.
   */
  nativeLoad?(ctx: NativeLoadContext<C>): Promise<NativeLoadResult | undefined>;
}

// ---- native loads (optional) ----------------------------------------------------------------------

/** Runs SQL on the store's connection inside a native load's transaction. */
export interface NativeSql {
  /** One statement, `$1`-style parameters; rows as plain objects (BIGINT as a number while exact). */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}

/**
 * What a native load stages for one unit of work (a file): temporary tables on the transaction's
 * connection, with these columns. `_ord` orders rows as the records were read: where keys repeat
 * the highest `_ord` wins, as the later record does on the read path. Timestamps are ISO 8601 text,
 * JSON is text.
 */
export interface StagedRows {
  /** `_pk, _cursor, _record, _ord`: the raw records, upserted on `_pk`. */
  raw: string;
  /** `id, record_pk, occurred_at, kind, name, channel, source_medium, campaign_id, campaign, value, currency, session_id, device, properties, _ord`. */
  events?: string;
  /** `id, identifier_type, identifier_value, record_pk, observed_at, _ord`: the identifiers of the event with that id and `_ord`. */
  eventIdentifiers?: string;
  /** `id, record_pk, observed_at, _ord`: identifier links (only those with an identifier left). */
  links?: string;
  /** `id, identifier_type, identifier_value, record_pk, observed_at, _ord`: the identifiers of the link with that id and `_ord`. */
  linkIdentifiers?: string;
  /** `record_pk, date, channel, campaign_id, campaign, cost, currency, clicks, impressions, _ord`. */
  spend?: string;
  /** Records for the quarantine table, as the read path would have quarantined them. */
  quarantine: { reason: string; record: unknown }[];
  /** Committed in the same transaction. */
  state?: StreamState;
}

export interface NativeLoadContext<C = JsonObject> {
  pipeline: string;
  source: string;
  stream: string;
  runId: string;
  config: C;
  /** As for `read`: the last committed state, `{}` on a first or full-refresh run. */
  state: StreamState;
  fullRefresh: boolean;
  log: Logger;
  signal: AbortSignal;
  resolvePath(path: string): string;
  options: ReadContext<C>['options'];
  /** The store's engine; only `duckdb` today. */
  dialect: 'duckdb';
  /** `raw_<source>_<stream>`, created already. */
  rawTable: string;
  /**
   * One unit of work in one store transaction: `work` stages rows with `sql`, then passes them to
   * `write` — raw records upserted, the canonical rows of those records replaced, quarantine and
   * state — exactly as a batch of `read` is stored. A throw rolls all of it back.
   */
  transaction<T>(work: (sql: NativeSql, write: (staged: StagedRows) => Promise<void>) => Promise<T>): Promise<T>;
  /**
   * How the read path normalises identifiers of `type` (core/identity/normalize.ts), as SQL; see
   * IdentifierSql. Undefined when only the read path can (phones, hashed forms): the stream must
   * then not load natively.
   */
  identifierSql(type: string): IdentifierSql | undefined;
  /** The read path's verdict on a record that passed the connector's parsing: the quarantine reason, or undefined (stored). */
  explain(record: JsonObject): string | undefined;
  /** Progress so far (records stored, quarantined), for the live display. */
  progress(records: number, quarantined: number): void;
}

/** SQL builders for one identifier type: each takes an SQL expression and returns one. */
export interface IdentifierSql {
  /** The canonical text of a value (text as the mapping gives it; null when absent). */
  normalize(value: string): string;
  /** Over the canonical text: the stored identifier type. */
  type(normalized: string): string;
  /** Over the canonical text: the stored value, null when the value is dropped or empty. */
  value(normalized: string): string;
  /** Over the canonical text: why it is dropped (invalid_email, too_long …), null when kept or empty. */
  dropped(normalized: string): string;
  /** Over the original value: true where the SQL may differ from the read path (leave it to `read`). */
  unsure(value: string): string;
}

export interface NativeLoadResult {
  records: number;
  quarantined: number;
  /** Identifiers dropped by normalisation, `type: reason` → count (as the read path reports them). */
  dropped?: Record<string, number>;
  /** Stopped early on purpose: what is committed stays, and the engine reads the rest with `read`. */
  rest?: boolean;
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
