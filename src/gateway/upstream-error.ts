// Mapping of undici failures to the gateway's coded answers: 504 for timeouts, 502 for everything
// else (refused, reset, invalid response), with a `{ code, message }` JSON body.
import type { ServerResponse } from 'node:http'
import { TandemError } from '../errors.js'

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'TANDEM_MIRROR_TIMEOUT'])
/** Failures that happen before the upstream saw the request: safe to retry elsewhere. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED'])

function codeOf(error: unknown): string {
  const e = error as { code?: string; cause?: { code?: string } }
  return e?.code ?? e?.cause?.code ?? ''
}

export function isTimeout(error: unknown): boolean {
  return TIMEOUTS.has(codeOf(error))
}

export function isConnectFailure(error: unknown): boolean {
  return CONNECT_FAILURES.has(codeOf(error))
}

export function upstreamError(error: unknown, arm: string, target: string, timeoutMs: number): TandemError {
  const code = codeOf(error)
  const detail = (error as Error)?.message ?? String(error)
  if (TIMEOUTS.has(code)) return new TandemError('TANDEM_ERR_UPSTREAM_TIMEOUT', { arm, target, timeout: `${timeoutMs}ms` }, { cause: error })
  if (code.startsWith('HPE_') || (error as Error)?.name === 'HTTPParserError') {
    return new TandemError('TANDEM_ERR_UPSTREAM_PROTOCOL', { arm, target, detail }, { cause: error })
  }
  return new TandemError('TANDEM_ERR_UPSTREAM_CONNECT', { arm, target, detail: code === '' ? detail : `${code} ${detail}` }, { cause: error })
}

/** Answer with a coded JSON error, unless the response has already started. */
export function sendError(res: ServerResponse, error: TandemError): void {
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  const body = JSON.stringify({ code: error.code, message: error.message })
  res.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}
