// HTTP client of a running `tandem up` for CLI verbs: finds the admin listener (--admin URL, else the
// config's admin.listen), sends the bearer token (--token or TANDEM_TOKEN) and maps errors to codes.
import type { Command } from 'commander'
import { request } from 'undici'
import { loadConfig } from '../config/load.js'
import { ERRORS, TandemError, type ErrorCode } from '../errors.js'
import { DEFAULT_CONFIG } from './common.js'

export interface AdminOptions {
  readonly config?: string
  readonly admin?: string
  readonly token?: string
}

/** Adds -c, --admin and --token to a verb that talks to a running instance. */
export function withAdminOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'tandem.yaml of the running instance (its admin.listen is used)', DEFAULT_CONFIG)
    .option('--admin <url>', 'admin listener URL, e.g. http://127.0.0.1:8081 (overrides the config)')
    .option('--token <token>', 'bearer token (default: $TANDEM_TOKEN)')
}

export class AdminClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string | undefined,
  ) {}

  /** Resolve the admin URL and token from CLI options; `env` is passed in so tests stay hermetic. */
  static async from(options: AdminOptions, env: NodeJS.ProcessEnv = process.env): Promise<AdminClient> {
    const token = options.token ?? env.TANDEM_TOKEN
    if (options.admin !== undefined) return new AdminClient(options.admin.replace(/\/+$/, ''), token)
    const config = await loadConfig(options.config ?? DEFAULT_CONFIG, env)
    const listen = config.admin.listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:')
    return new AdminClient(`http://${listen}`, token)
  }

  get<T>(path: string): Promise<T> {
    return this.#send<T>('GET', path)
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.#send<T>('POST', path, body)
  }

  async #send<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}${path}`
    const headers: Record<string, string> = {}
    if (this.token !== undefined && this.token !== '') headers.authorization = `Bearer ${this.token}`
    // The admin API refuses mutating calls that do not declare JSON (a browser form could send them).
    if (body !== undefined || method !== 'GET') headers['content-type'] = 'application/json'
    let res
    try {
      res = await request(url, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      })
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (
        code === 'ECONNREFUSED' ||
        code === 'ENOTFOUND' ||
        code === 'EHOSTUNREACH' ||
        code === 'UND_ERR_CONNECT_TIMEOUT'
      ) {
        throw new TandemError('TANDEM_ERR_ADMIN_UNREACHABLE', { url: this.baseUrl }, { cause: error })
      }
      throw new TandemError('TANDEM_ERR_ADMIN_UNREACHABLE', { url: this.baseUrl }, { cause: error })
    }
    const text = await res.body.text()
    let parsed: unknown
    try {
      parsed = text === '' ? null : JSON.parse(text)
    } catch {
      throw new TandemError('TANDEM_ERR_ADMIN_RESPONSE', {
        url: this.baseUrl,
        status: res.statusCode,
        detail: text.slice(0, 200),
      })
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return parsed as T
    throw remoteError(parsed, this.baseUrl, res.statusCode)
  }
}

/** Rebuild the server's TandemError (same code, message and exit status) from `{ code, message }`. */
function remoteError(body: unknown, url: string, status: number): TandemError {
  const b = (body ?? {}) as { code?: string; message?: string; details?: unknown }
  if (typeof b.code === 'string' && b.code in ERRORS) {
    const error = new TandemError(b.code as ErrorCode, {}, { details: b.details })
    // The server already filled the message; keep its words rather than the unfilled template.
    if (typeof b.message === 'string') Object.defineProperty(error, 'message', { value: b.message })
    return error
  }
  return new TandemError('TANDEM_ERR_ADMIN_RESPONSE', {
    url,
    status,
    detail: b.message ?? JSON.stringify(body).slice(0, 200),
  })
}
