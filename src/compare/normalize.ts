// Turns captured bytes into something comparable: decompress (gzip, deflate, br), decode the charset,
// parse JSON (also application/*+json); other text stays text, anything else becomes a SHA-256.
import { createHash } from 'node:crypto'
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib'

export type Headers = Readonly<Record<string, string | string[] | undefined>>

export type NormalizedBody =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'binary'; readonly sha256: string; readonly size: number }

/** A header value by case-insensitive name; repeated headers are joined with ", ". */
export function header(headers: Headers, name: string): string | undefined {
  const lower = name.toLowerCase()
  for (const key in headers) {
    if (key.toLowerCase() !== lower) continue
    const v = headers[key]
    if (v === undefined) return undefined
    return Array.isArray(v) ? v.join(', ') : v
  }
  return undefined
}

export function mediaType(headers: Headers): string {
  return (header(headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase()
}

export function isJsonType(type: string): boolean {
  return (
    type === 'application/json' || type === 'text/json' || (type.startsWith('application/') && type.endsWith('+json'))
  )
}

function isTextType(type: string): boolean {
  return (
    type === '' ||
    type.startsWith('text/') ||
    type.endsWith('+xml') ||
    type === 'application/xml' ||
    type === 'application/javascript' ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'application/graphql'
  )
}

/** Undo every content-encoding, last applied first; null when an encoding is unknown or corrupt. */
export function decompress(headers: Headers, body: Buffer): Buffer | null {
  const encodings = (header(headers, 'content-encoding') ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '' && e !== 'identity')
  let out = body
  try {
    for (const enc of encodings.reverse()) {
      if (enc === 'gzip' || enc === 'x-gzip') out = gunzipSync(out)
      else if (enc === 'br') out = brotliDecompressSync(out)
      else if (enc === 'deflate') out = inflateDeflate(out)
      else return null
    }
  } catch {
    return null
  }
  return out
}

/** `deflate` is zlib-wrapped by the RFC, but some servers send raw deflate: accept both. */
function inflateDeflate(body: Buffer): Buffer {
  try {
    return inflateSync(body)
  } catch {
    return inflateRawSync(body)
  }
}

function charsetOf(headers: Headers): string {
  const m = /charset\s*=\s*"?([^";\s]+)"?/i.exec(header(headers, 'content-type') ?? '')
  return m?.[1]?.toLowerCase() ?? 'utf-8'
}

export function decodeText(bytes: Buffer, charset: string): string {
  if (charset === 'utf-8' || charset === 'utf8') return bytes.toString('utf8')
  try {
    return new TextDecoder(charset).decode(bytes)
  } catch {
    // An unknown label: UTF-8 is the best guess and keeps both sides decoded the same way.
    return bytes.toString('utf8')
  }
}

function sha256(bytes: Buffer): NormalizedBody {
  return { kind: 'binary', sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }
}

export function normalizeBody(headers: Headers, body: Buffer): NormalizedBody {
  const bytes = decompress(headers, body)
  if (bytes === null) return sha256(body)
  const type = mediaType(headers)
  if (isJsonType(type)) {
    const text = decodeText(bytes, charsetOf(headers))
    if (text.trim() === '') return { kind: 'text', text: '' }
    try {
      return { kind: 'json', value: JSON.parse(text) }
    } catch {
      // Declared JSON that does not parse is compared as text, so the difference still shows.
      return { kind: 'text', text }
    }
  }
  if (isTextType(type)) return { kind: 'text', text: decodeText(bytes, charsetOf(headers)) }
  return sha256(bytes)
}
