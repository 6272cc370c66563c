// TLS files of tandem.yaml: the gateway's certificate and key (`gateway.tls`) and targets' private CAs
// (`tls.ca`), read into memory and checked, so that a bad file is a coded error before anything changes.
import { readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import { TandemError } from '../errors.js'

/** A target's `tls: { ca, insecure }`, as node:tls connect options. */
export interface TargetTls {
  readonly ca?: string
  readonly rejectUnauthorized: boolean
}

export interface ServerTls {
  readonly cert: Buffer
  readonly key: Buffer
}

/** Read one file named at `key` (for messages: `gateway.tls.cert`). */
export function readTlsFile(file: string, key: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    const detail = (error as { code?: string }).code ?? String(error)
    throw new TandemError('TANDEM_ERR_TLS_FILE', { file, key, detail }, { cause: error })
  }
}

/** Read and check `gateway.tls`: the key must belong to the certificate (createSecureContext checks). */
export function readServerTls(tls: { readonly cert: string; readonly key: string }): ServerTls {
  const cert = readTlsFile(tls.cert, 'gateway.tls.cert')
  const key = readTlsFile(tls.key, 'gateway.tls.key')
  try {
    createSecureContext({ cert, key })
  } catch (error) {
    // OpenSSL's reason (`no start line`, `key values mismatch`) holds no secret.
    const detail = String((error as Error).message).replace(/^error:[0-9A-F]+:/i, '')
    throw new TandemError('TANDEM_ERR_TLS_INVALID', { key: 'gateway.tls', detail }, { cause: error })
  }
  return { cert, key }
}
