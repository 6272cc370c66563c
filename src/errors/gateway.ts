// Gateway and admin API errors of the registry (src/errors.ts): listening, TLS, routing, upstreams,
// admin auth and bind safety, and the data-plane limits.
import { define } from './define.js'

export const GATEWAY_ERRORS = define({
  // --- gateway --------------------------------------------------------------------------------------
  TANDEM_ERR_LISTEN: {
    message: 'cannot listen on {address}: {detail}; choose another address or stop what uses it',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_TLS_FILE: {
    message:
      'cannot read the TLS file {file} ({key}): {detail}; check the path (relative paths start at the working ' +
      'directory) and its permissions',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_GRPC_PROTO: {
    message:
      'the .proto files of system "{system}" cannot be loaded: {detail}; check grpc.protos and grpc.includeDirs ' +
      '(paths from the working directory)',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_GRPC_REFLECTION: {
    message:
      'the message types of gRPC system "{system}" cannot be read from its legacy target by server reflection: ' +
      '{detail}; enable gRPC server reflection on legacy or give grpc.protos. Tandem keeps serving, retries, and ' +
      'compares responses by bytes until then',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_TLS_INVALID: {
    message:
      'the TLS files of {key} cannot be used: {detail}; give a PEM certificate chain and the PEM private key that ' +
      'belongs to it',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_NO_ROUTE: {
    message:
      'no system route matches {method} {path} and no gateway.fallback is configured; add a route for it or set ' +
      'gateway.fallback to the legacy app',
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
      'the upstream {target} answered with an invalid HTTP response: {detail}; fix the upstream, or check that its ' +
      'URL in tandem.yaml points at an HTTP/1.1 service',
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
      'a valid bearer token is required: send `Authorization: Bearer TOKEN` (CLI: --token or TANDEM_TOKEN) with a ' +
      'token from admin.tokens',
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
      'the rollout controller is not running in this instance, so "{action}" cannot be performed; start it with ' +
      '`tandem up`',
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
      'Host "{host}" is not a name of this admin listener: with no admin.tokens only localhost, 127.0.0.1 and ::1 ' +
      'are answered (another name is how DNS rebinding reaches it); open http://127.0.0.1:{port}/ or configure ' +
      'admin.tokens',
    status: 421,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_FOREIGN_ORIGIN: {
    message:
      'a page from {origin} may not call this admin listener: with no admin.tokens only its own pages (origin ' +
      'http://{host}) may; use the dashboard at http://{host}/ or the CLI, or configure admin.tokens',
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

  // --- gateway data plane ----------------------------------------------------------------------------
  TANDEM_ERR_HEADERS_TOO_LARGE: {
    message: 'the request headers exceed gateway.maxHeaderSize; send smaller headers or raise the limit',
    status: 431,
    exit: 2,
  },
  TANDEM_ERR_REQUEST_TIMEOUT: {
    message:
      'the request line and headers did not arrive within gateway.headersTimeout ({timeout}); send the request head ' +
      'at once, or raise gateway.headersTimeout',
    status: 408,
    exit: 2,
  },
})
