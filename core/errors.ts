// One error family for the whole engine. Every error a user can see is a TouchpointError: it knows
// whether it is a configuration problem (exit 2) or a run failure (exit 1), whether retrying can help
// (transient) or not (terminal), where it happened, and what to do about it (hint). The CLI prints
// `format()`; nothing else should print raw stacks to users.

export type ErrorKind = 'config' | 'run';

export interface ErrorOptions {
  hint?: string;
  /** `file:line:col` or `source/stream`: where the problem is, in the user's terms. */
  where?: string;
  /** A retry may succeed (network, 5xx, 429). Terminal errors stop the stream at once. */
  transient?: boolean;
  cause?: unknown;
}

export class TouchpointError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly where: string | undefined;
  readonly transient: boolean;

  constructor(kind: ErrorKind, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.hint = options.hint;
    this.where = options.where;
    this.transient = options.transient ?? false;
  }

  get exitCode(): number {
    return this.kind === 'config' ? 2 : 1;
  }

  /**
   * One line, plus an indented hint line when there is one. A file position reads
   * `pipelines/acme.yaml:12:7 sources[1].config.token: must be string`; any other place
   * (`crm/contacts`) is followed by a colon: `crm/contacts: authentication failed …`.
   */
  format(): string {
    const head = !this.where ? this.message : /:\d+:\d+$/.test(this.where) ? `${this.where} ${this.message}` : `${this.where}: ${this.message}`;
    return this.hint ? `${head}\n  hint: ${this.hint}` : head;
  }
}

/** Invalid pipeline/report YAML, unknown connector, missing env variable, bad CLI usage. Exit 2. */
export class ConfigError extends TouchpointError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('config', message, options);
  }
}

/** Several config problems found at once (ajv reports all errors). */
export class ConfigErrors extends ConfigError {
  readonly errors: ConfigError[];
  constructor(errors: ConfigError[]) {
    super(errors.map((e) => e.format()).join('\n'), { where: undefined });
    this.errors = errors;
  }
  override format(): string {
    return this.errors.map((e) => e.format()).join('\n');
  }
}

/** A stage or stream failed while running. Exit 1. */
export class RunError extends TouchpointError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('run', message, options);
  }
}

/** Credentials rejected (401/403). Terminal: retrying with the same token cannot help. */
export class AuthError extends RunError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, transient: false });
  }
}

/** A quota is exhausted until some later time (daily limits and the like). Terminal for this run. */
export class QuotaError extends RunError {
  readonly quota: string | undefined;
  readonly resetsAt: Date | undefined;
  constructor(message: string, options: ErrorOptions & { quota?: string; resetsAt?: Date } = {}) {
    super(message, { ...options, transient: false });
    this.quota = options.quota;
    this.resetsAt = options.resetsAt;
  }
}

/** The store could not be reached or is locked by another process. */
export class StoreError extends RunError {}

/** The run was cancelled (Ctrl-C, AbortSignal). */
export class CancelledError extends RunError {
  constructor(message = 'run cancelled', options: ErrorOptions = {}) {
    super(message, options);
  }
}

export function isTouchpointError(error: unknown): error is TouchpointError {
  return error instanceof TouchpointError;
}

/** Wraps anything thrown into a TouchpointError without losing the original as `cause`. */
export function toTouchpointError(error: unknown, where?: string): TouchpointError {
  if (error instanceof TouchpointError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RunError(message, { where, cause: error });
}
