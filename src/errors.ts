// The registry of every user-facing error: a stable TANDEM_ERR_* code, a message template, the HTTP
// status the admin API answers with and the exit code the CLI ends with. Each says what to do.
import { redactSecrets } from './redact.js'

export interface ErrorDefinition {
  /** Message template; `{name}` placeholders are filled from the params. */
  readonly message: string
  /** HTTP status when the error reaches a client of the gateway or the admin API. */
  readonly status: number
  /** Process exit code when the error ends a CLI command (2 usage/runtime, 1 finding). */
  readonly exit: 0 | 1 | 2
}

const define = <T extends Record<string, ErrorDefinition>>(defs: T): T => defs

export const ERRORS = define({
  // --- usage and configuration -----------------------------------------------------------------
  TANDEM_ERR_USAGE: { message: '{detail}. Run `tandem --help` for usage.', status: 400, exit: 2 },
  TANDEM_ERR_CONFIG_NOT_FOUND: {
    message: 'Config file {file} not found. Create one with `tandem init` or pass -c FILE.',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_PARSE: { message: '{detail}. Fix the YAML syntax at the position shown.', status: 400, exit: 2 },
  TANDEM_ERR_CONFIG_INVALID: {
    message: '{count} error(s) in {file}; each is listed with its position. Fix them and run `tandem validate`.',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_TYPE: { message: '{detail}; see tandem.schema.json for the expected shape', status: 400, exit: 2 },
  TANDEM_ERR_CONFIG_UNKNOWN_KEY: {
    message: 'unknown key "{key}"; remove it or check its spelling',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_KIND: {
    message: '`{key}` applies to {appliesTo}, not to a {kind} system; a {kind} system takes {takes}',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_REQUIRED: { message: 'required key is missing: {detail}', status: 400, exit: 2 },
  TANDEM_ERR_CONFIG_DURATION: {
    message: 'expected a duration such as "500ms", "10s", "5m" or "2h", got {value}',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_SIZE: {
    message: 'expected a size such as 512KiB, 1MiB or a byte count, got {value}',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_THRESHOLD: {
    message: 'expected a rule such as ">= 0.8", "< 0.05" or "> 2x", got {value}',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_DUPLICATE_SYSTEM: {
    message: 'system name "{name}" is used more than once; system names must be unique',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_UNKNOWN_WAVE: {
    message: 'wave "{name}" is not declared under `waves`; declare it or fix the name',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_UNKNOWN_SYSTEM: {
    message: 'system "{name}" is not declared under `systems`; declare it or fix the name',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_CYCLE: {
    message: 'dependsOn forms a cycle: {cycle}; remove one of these dependencies',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_ENV_MISSING: {
    message: 'environment variable {name} is not set (referenced as env:{name}); export it before starting',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_TOO_LARGE: {
    message: '{file} is too large to load: {detail}; shrink it (settings shared by systems belong under `defaults`)',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_ALIAS: {
    message: '{detail}; YAML aliases (*name) must follow their anchor (&name) and stay small',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_TOO_MANY_ERRORS: {
    message: 'and {more} more error(s) not listed; fix the ones above and run `tandem validate` again',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_EXISTS: { message: '{file} already exists; pass --force to overwrite it', status: 409, exit: 2 },

  // --- store --------------------------------------------------------------------------------------
  TANDEM_ERR_STORE_URL: {
    message: 'store "{url}" is not supported; use sqlite:PATH or postgres://user@host/db',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_STORE_OPEN: {
    message: 'cannot open the store {url}: {detail}; check the URL and that the database runs and accepts this user',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_STORE_EMPTY: {
    message:
      'store file {file} exists but is empty (0 bytes), so it holds no rollout state to resume; restore it from a backup, or delete it to start a fresh store',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_STORE_CORRUPT: {
    message:
      'store file {file} is damaged ({detail}); stop tandem and restore the file from a backup, or rebuild it with `sqlite3 {file} .recover`',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_STORE_LOCKED: {
    message:
      'store file {file} is in use by another `tandem up` (pid {pid}, lock {lock}); stop that one first or give this one another store. If no tandem runs with pid {pid}, delete {lock}',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_STORE_CONFLICT: {
    message: 'state of system "{system}" changed concurrently; retry the action',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_LEASE_LOST: {
    message:
      'this instance ({holder}) no longer holds the controller lease (its term {token}, the store is at {current}); ' +
      'its write was refused and the current holder decides',
    status: 409,
    exit: 2,
  },

  // --- gateway --------------------------------------------------------------------------------------
  TANDEM_ERR_LISTEN: {
    message: 'cannot listen on {address}: {detail}; choose another address or stop what uses it',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_TLS_FILE: {
    message:
      'cannot read the TLS file {file} ({key}): {detail}; check the path (relative paths start at the working directory) and its permissions',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_GRPC_PROTO: {
    message:
      'the .proto files of system "{system}" cannot be loaded: {detail}; check grpc.protos and grpc.includeDirs (paths from the working directory)',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_TLS_INVALID: {
    message:
      'the TLS files of {key} cannot be used: {detail}; give a PEM certificate chain and the PEM private key that belongs to it',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_NO_ROUTE: {
    message:
      'no system route matches {method} {path} and no gateway.fallback is configured; add a route for it or set gateway.fallback to the legacy app',
    status: 404,
    exit: 1,
  },
  TANDEM_ERR_UPSTREAM_CONNECT: {
    message: 'the upstream {target} could not be reached: {detail}; check that it runs at the URL tandem.yaml gives it',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_UPSTREAM_TIMEOUT: {
    message: 'the upstream {target} did not answer within {timeout}; fix the upstream or raise gateway.upstreamTimeout',
    status: 504,
    exit: 2,
  },
  TANDEM_ERR_UPSTREAM_PROTOCOL: {
    message:
      'the upstream {target} answered with an invalid HTTP response: {detail}; fix the upstream, or check that its URL in tandem.yaml points at an HTTP/1.1 service',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_PATH_OUTSIDE_ROOT: {
    message: 'the request path {path} climbs above the root with ".." segments; send a path that stays below /',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_BAD_TARGET: {
    message: 'the request target is not supported: {detail}; send a path such as /items/1 (or an absolute http:// URL)',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_BAD_REQUEST: {
    message: 'malformed request: {detail}; send a valid HTTP/1.1 request',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_BODY_TOO_LARGE: {
    message: 'the request body is too large ({detail}); send a smaller body',
    status: 413,
    exit: 2,
  },
  TANDEM_ERR_PATH_FORBIDDEN: {
    message:
      'the path {path} is not served: it leaves the served directory or names a hidden file; request a page such as /',
    status: 403,
    exit: 2,
  },

  // --- admin API and CLI to a running instance ---------------------------------------------------------
  TANDEM_ERR_FLAGS_OBSERVATIONS: {
    message:
      'observations refused: {detail}; send at most 1000 observations per batch as `{ client, observations: [...] }`',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_FLAGS_NOT_CODE: {
    message: 'system "{system}" is not a `kind: code` system; only code systems take adapter observations',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_FLAGS_ROLE: {
    message: '{actor} (role {role}) may not report observations; use a token of role flags or operator',
    status: 403,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_UNREACHABLE: {
    message: 'no running tandem answers at {url}; start one with `tandem up` or pass --admin URL',
    status: 503,
    exit: 2,
  },
  TANDEM_ERR_SYSTEM_NOT_FOUND: {
    message: 'system "{system}" is not in the configuration; see `tandem status`',
    status: 404,
    exit: 2,
  },
  TANDEM_ERR_ACTION_INVALID: {
    message: 'cannot {action} "{system}" while it is {stage}: {detail}',
    status: 409,
    exit: 2,
  },

  // --- admin API: auth, audit, bind safety ---------------------------------------------------------------
  TANDEM_ERR_ADMIN_UNAUTHORIZED: {
    message:
      'a valid bearer token is required: send `Authorization: Bearer TOKEN` (CLI: --token or TANDEM_TOKEN) with a token from admin.tokens',
    status: 401,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_FORBIDDEN: {
    message: 'token "{actor}" has role {role}, but {what} needs role {required}; use a token with that role',
    status: 403,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_RATE_LIMITED: {
    message: 'too many failed authentication attempts from {ip}; wait {retryAfter}s and retry with a valid token',
    status: 429,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_UNSAFE_BIND: {
    message:
      'admin.listen is {listen} but admin.tokens is empty; add a token under admin.tokens or listen on 127.0.0.1',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_CONTROL_UNAVAILABLE: {
    message:
      'the rollout controller is not running in this instance, so "{action}" cannot be performed; start it with `tandem up`',
    status: 503,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_NOT_FOUND: {
    message: 'no admin endpoint {method} {url}; see /api/v1/openapi.json for the list',
    status: 404,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_FOREIGN_HOST: {
    message:
      'Host "{host}" is not a name of this admin listener: with no admin.tokens only localhost, 127.0.0.1 and ::1 are answered (another name is how DNS rebinding reaches it); open http://127.0.0.1:{port}/ or configure admin.tokens',
    status: 421,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_FOREIGN_ORIGIN: {
    message:
      'a page from {origin} may not call this admin listener: with no admin.tokens only its own pages (origin http://{host}) may; use the dashboard at http://{host}/ or the CLI, or configure admin.tokens',
    status: 403,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_CONTENT_TYPE: {
    message:
      '{method} {url} needs `Content-Type: application/json` (got {got}); send that header, with a JSON body or none',
    status: 415,
    exit: 2,
  },
  TANDEM_ERR_INTERNAL: {
    message: 'an unexpected failure: {detail}. This is a bug in Tandem: please report it with this message',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_INTERNAL: {
    message: 'the admin API failed unexpectedly: {detail}; see the instance log and report it',
    status: 500,
    exit: 2,
  },

  // --- events ------------------------------------------------------------------------------------------
  TANDEM_ERR_EVENTS_URL: {
    message:
      'stream URL "{url}" is not valid: {detail}. Use nats://HOST:4222/STREAM?subject=SUBJ, amqp://USER:PASS@HOST:5672/VHOST?stream=NAME, redis://HOST:6379/DB?stream=KEY or kafka://HOST:9092[,HOST:9092]/TOPIC (docs/events.md)',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_CONNECT: {
    message: 'cannot reach the broker of {url}: {detail}; check that it runs and the URL is right',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_NOT_FOUND: {
    message: 'stream "{stream}" does not exist at {url}; create it first or fix the name',
    status: 404,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_WRONG_TYPE: {
    message: '"{stream}" at {url} is {type}, not a stream; pass ?stream= with the name of {hint}',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_REDIS_DB: {
    message:
      'Redis database {db} cannot be used at {url} ({detail}); put a database number the server has in the URL path (0 up to its `databases` setting - 1, 0-15 by default)',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_SUBJECT: {
    message:
      'subject "{subject}" is outside JetStream stream "{stream}" at {url}, which stores {subjects}; pass a ?subject= within those (wildcards allowed) or leave it out to read the whole stream',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_PUBLISH: {
    message: 'publishing to {url} failed: {detail}; check the broker and retry',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_POSITION: {
    message:
      'position "{position}" is not valid for {url}: {detail}; pass the position of a message stored in that stream',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_EXTRACTOR: {
    message:
      '{option} "{value}" is not valid; use a JSON path such as /orderId or $.order.id, header:NAME, message-id, or key (Kafka)',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_NO_ID: {
    message:
      'the message at position {position} of {url} has no id at {extractor}; pass an --id that every message has',
    status: 422,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_NO_TIME: {
    message:
      'the message at position {position} of {url} has no usable time {detail}; pass --time PATH to a timestamp in the payload',
    status: 422,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_GROUP: {
    message:
      'consumer group "{group}" at {url} cannot be used: {detail}; check the group name (kafka-consumer-groups --describe --group NAME) and stop its consumers before --commit',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_CHECKPOINT: {
    message: 'checkpoint file {file} cannot be used: {detail}; fix or delete it to start over',
    status: 400,
    exit: 2,
  },
  // --- rollout controller ---------------------------------------------------------------------------
  TANDEM_ERR_START_BLOCKED: {
    message: 'cannot start "{system}": {reasons}; fix these, or pass --force to override them (audited)',
    status: 409,
    exit: 1,
  },
  TANDEM_ERR_PROGRAM_HALTED: {
    message:
      'cannot {action} "{system}": the program is halted ({reason}); rollbacks still work. Fix the cause, then run `tandem program resume --reason TEXT`',
    status: 409,
    exit: 1,
  },
  TANDEM_ERR_PROGRAM_ALREADY_HALTED: {
    message: 'the program is already halted ({reason}); run `tandem program resume` once the cause is fixed',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_PROGRAM_NOT_HALTED: {
    message: 'the program is not halted; nothing to resume (`tandem status` shows its state)',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_FINALIZE_BLOCKED: {
    message:
      'cannot finalize "{system}": post-migration check {checks} failed: {detail}; fix it (`tandem check {system} --post` shows the output), or pass --force to override (audited)',
    status: 409,
    exit: 1,
  },
  TANDEM_ERR_HOOK_REFUSED: {
    message: 'the {hook} hook of "{system}" refused: {detail}; fix what it checks, then retry the action',
    status: 409,
    exit: 1,
  },
  TANDEM_ERR_PROMETHEUS_UNREACHABLE: {
    message:
      'Prometheus at {url} did not answer the query of custom metric "{metric}" ({detail}); ' +
      'the metric is inconclusive (the rollout holds) until it answers: check analysis.metrics[].prometheus.url',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_PROMETHEUS_QUERY: {
    message:
      'Prometheus at {url} refused the query of custom metric "{metric}" ({detail}); ' +
      'the metric is inconclusive (the rollout holds): ' +
      'fix analysis.metrics[].prometheus.query (or the credentials in its url)',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_PROMETHEUS_NO_VALUE: {
    message:
      'the query of custom metric "{metric}" for the {arm} arm gave no value ({detail}); it is inconclusive, ' +
      'never a pass: check that the series exist, and aggregate to one series (sum, max) when it gives several',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_RESPONSE: {
    message:
      'the tandem at {url} answered {status} unexpectedly: {detail}; check that --admin points at a tandem admin listener',
    status: 502,
    exit: 2,
  },
  // --- gateway data plane ----------------------------------------------------------------------------
  TANDEM_ERR_HEADERS_TOO_LARGE: {
    message: 'the request headers exceed gateway.maxHeaderSize; send smaller headers or raise the limit',
    status: 431,
    exit: 2,
  },
  TANDEM_ERR_REQUEST_TIMEOUT: {
    message:
      'the request line and headers did not arrive within gateway.headersTimeout ({timeout}); send the request head at once, or raise gateway.headersTimeout',
    status: 408,
    exit: 2,
  },

  // --- data store migration ----------------------------------------------------------------------------
  TANDEM_ERR_DATA_URL: {
    message: 'database URL {url} is not supported; use postgres://user@host/db, mysql://user@host/db or sqlite:PATH',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_CONNECT: {
    message: 'cannot connect to {url}: {detail}; check the URL, credentials and that the server runs',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_DATA_TABLE_MISSING: {
    message:
      'table {table} does not exist in {url}; check the name (schema.table) or pass --to-table for a renamed table',
    status: 404,
    exit: 2,
  },
  TANDEM_ERR_DATA_COLUMN_MISSING: {
    message:
      'column {column} does not exist in table {table} of {url}; pass --columns to choose columns or --map old=new for a renamed column',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_NO_KEY: {
    message: 'table {table} in {url} has no primary key; pass --key with the column(s) that identify a row',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_KEY_NULL: {
    message:
      '{count} row(s) of table {table} in {url} have a NULL in key {key}, and a diff cannot place or match them; pass --key with column(s) that are never NULL, or leave those rows out explicitly with --where "{exclude}"',
    status: 422,
    exit: 2,
  },
  TANDEM_ERR_DATA_KEY_DUPLICATE: {
    message:
      'key {key} is not unique in table {table} of {url}: {count} key value(s) are on more than one row ({sample}), and a diff cannot tell those rows apart; pass --key with the column(s) that identify one row (e.g. the primary key)',
    status: 422,
    exit: 2,
  },
  TANDEM_ERR_DATA_UPDATED_AT: {
    message:
      'table {table} in {url} has no column {column} to find changed rows by; add it or set `updatedAt` to the column every write sets',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_KEY_TYPE: {
    message:
      'the key of table {table} differs in type between the sides: {detail}; give both sides the same key type or map the key to one that matches',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_QUERY: {
    message: 'a query on {url} failed: {detail}; check --where and the column types',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_DATA_OPTION: { message: '{detail}; see `tandem data diff --help`', status: 400, exit: 2 },
  TANDEM_ERR_DATA_LOG: {
    message: 'reconciliation log {file} line {line} is not a replayable entry: {detail}; fix or remove the line',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_SECONDARY_WRITE: {
    message: 'the write to the new store failed: {detail}; it was logged to {log} for `tandem data reconcile`',
    status: 502,
    exit: 2,
  },

  // --- comparison ----------------------------------------------------------------------------------------
  TANDEM_ERR_EXPERIMENT_NO_CONTROL: {
    message: 'experiment "{name}" has no control; call .use(fn) with the existing behaviour before .run()',
    status: 500,
    exit: 2,
  },
  // --- program (waves, checklist, report) ------------------------------------------------------
  TANDEM_ERR_OUTPUT_WRITE: {
    message:
      'cannot write {option} {file}: {detail}; check that the directory exists and is writable, or choose another path',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_TARGETS_MISSED: {
    message: '{count} KPI target(s) missed: {missed}; the report shows every KPI against its target (program.targets)',
    status: 409,
    exit: 1,
  },
  TANDEM_ERR_REPORT_WRITE: {
    message: 'cannot write the report to {file}: {detail}; check that the directory exists and is writable',
    status: 500,
    exit: 2,
  },
})

export type ErrorCode = keyof typeof ERRORS

/** A user-facing error: stable code, filled message, HTTP status, exit code and optional details. */
export class TandemError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly exitCode: 0 | 1 | 2
  readonly details: unknown

  constructor(
    code: ErrorCode,
    params: Record<string, unknown> = {},
    options: { details?: unknown; cause?: unknown } = {},
  ) {
    super(
      formatMessage(ERRORS[code].message, params),
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.name = 'TandemError'
    this.code = code
    this.status = ERRORS[code].status
    this.exitCode = ERRORS[code].exit
    this.details = options.details
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

/**
 * The coded error for a 4xx that a library raised without one of our codes (fastify's body limit,
 * @fastify/static refusing a path): each status gets the code that says what to do, not BAD_REQUEST.
 */
export function clientErrorFor(status: number, detail: string, path: string): TandemError {
  if (status === 413) return new TandemError('TANDEM_ERR_BODY_TOO_LARGE', { detail })
  if (status === 403) return new TandemError('TANDEM_ERR_PATH_FORBIDDEN', { path })
  return new TandemError('TANDEM_ERR_BAD_REQUEST', { detail })
}

/** Fill a template; every value goes through redactSecrets, so no message carries a URL password or token. */
export function formatMessage(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in params ? redactSecrets(String(params[key])) : whole,
  )
}

export function isTandemError(error: unknown): error is TandemError {
  return error instanceof TandemError
}
