// The canonical text of a column value and the per-row hash, in JavaScript. SQLite runs these as user
// functions; the PostgreSQL and MySQL dialects render the same text in SQL (see dialect-*.ts).
import { createHash } from 'node:crypto'
import { timestampLength, type Kind } from './kinds.js'

/**
 * Canonical text of one value, or null for SQL NULL:
 * - int: decimal digits; decimal: no exponent, no trailing fractional zeros (1.50 -> 1.5);
 * - float: rounded half away from zero to 6 decimal places after a 15-significant-digit conversion;
 * - bool: 1 | 0; uuid: lowercase; binary: lowercase hex; date: YYYY-MM-DD;
 * - timestamp: UTC `YYYY-MM-DD HH:MM:SS.ffffff` truncated to the common precision;
 * - text: the string itself (no Unicode normalisation: NFC and NFD spellings are different data).
 */
export function canonicalText(kind: Kind, value: unknown): string | null {
  if (value === null || value === undefined) return null
  switch (kind.family) {
    case 'int':
      return typeof value === 'number' && !Number.isInteger(value) ? normalizeDecimal(numberText(value)) : String(value)
    case 'decimal':
      return typeof value === 'number' ? normalizeDecimal(numberText(value)) : normalizeDecimal(String(value))
    case 'float':
      return canonicalFloat(value)
    case 'bool':
      return canonicalBool(value)
    case 'uuid':
      return textOf(value).toLowerCase()
    case 'binary':
      return Buffer.isBuffer(value) ? value.toString('hex') : Buffer.from(textOf(value), 'utf8').toString('hex')
    case 'date':
      return canonicalTimestamp(value, 0)?.slice(0, 10) ?? textOf(value)
    case 'timestamp':
      return canonicalTimestamp(value, kind.precision) ?? textOf(value)
    default:
      return textOf(value)
  }
}

/** The string every dialect hashes for a row: per column its length in code points, ':' and its text, or N for NULL. */
export function rowEncoding(canon: ReadonlyArray<string | null>): string {
  let out = ''
  for (const c of canon) out += c === null ? 'N' : `${codePointLength(c)}:${c}`
  return out
}

/** The 60-bit row hash: the first 15 hex digits of md5 over the row encoding. */
export function rowHash(canon: ReadonlyArray<string | null>): bigint {
  const hex = createHash('md5').update(rowEncoding(canon), 'utf8').digest('hex')
  return BigInt(`0x${hex.slice(0, 15)}`)
}

export function codePointLength(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

function textOf(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  if (value instanceof Date) return value.toISOString()
  return String(value)
}

/** A JavaScript number as plain decimal text with at most 15 significant digits (as PostgreSQL's float8 -> numeric). */
function numberText(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity'
  return n.toPrecision(15)
}

/** Plain decimal text without exponent, leading zeros or trailing fractional zeros; -0 becomes 0. */
export function normalizeDecimal(input: string): string {
  const s = input.trim()
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s)
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return s
  const sign = m[1] === '-' ? '-' : ''
  let digits = `${m[2]}${m[3] ?? ''}`
  let scale = (m[3] ?? '').length - Number(m[4] ?? 0)
  if (scale < 0) {
    digits += '0'.repeat(-scale)
    scale = 0
  }
  return formatScaled(sign, digits, scale)
}

function formatScaled(sign: string, rawDigits: string, scale: number): string {
  const digits = rawDigits.padStart(scale + 1, '0')
  let int = digits.slice(0, digits.length - scale).replace(/^0+(?=\d)/, '')
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '')
  if (int === '') int = '0'
  const body = frac === '' ? int : `${int}.${frac}`
  return /^0(\.0*)?$/.test(body) ? '0' : `${sign}${body}`
}

function canonicalFloat(value: unknown): string {
  const text = typeof value === 'number' ? numberText(value) : String(value).trim()
  if (/^[+-]?(NaN|Infinity)$/i.test(text)) return text
  return roundDecimal(normalizeDecimal(text), 6)
}

/** Round plain decimal text half away from zero to `places` fractional digits, then normalise. */
export function roundDecimal(plain: string, places: number): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(plain)
  if (!m) return plain
  const frac = m[3] ?? ''
  if (frac.length <= places) return plain
  const all = BigInt(`${m[2]}${frac}`)
  const div = 10n ** BigInt(frac.length - places)
  let q = all / div
  if ((all % div) * 2n >= div) q += 1n
  return formatScaled(m[1] ?? '', q.toString(), places)
}

function canonicalBool(value: unknown): string {
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value) !== 0 ? '1' : '0'
  const s = textOf(value).trim().toLowerCase()
  if (['t', 'true', 'yes', 'on'].includes(s)) return '1'
  if (['f', 'false', 'no', 'off'].includes(s)) return '0'
  return /^-?\d+(\.\d+)?$/.test(s) ? (Number(s) !== 0 ? '1' : '0') : s
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i

/**
 * A timestamp in UTC at `precision` fractional digits (truncated). Text without an offset is taken as
 * UTC; numbers are Unix seconds; Date objects carry milliseconds. Returns null when unparseable.
 */
export function canonicalTimestamp(value: unknown, precision: number): string | null {
  let epochMs: number
  let micros: number
  if (value instanceof Date) {
    epochMs = value.getTime()
    micros = (((epochMs % 1000) + 1000) % 1000) * 1000
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    const totalMicros = BigInt(Math.round(Number(value) * 1e6))
    const sec = totalMicros >= 0n ? totalMicros / 1_000_000n : -((-totalMicros + 999_999n) / 1_000_000n)
    epochMs = Number(sec) * 1000
    micros = Number(totalMicros - sec * 1_000_000n)
  } else {
    const m = TIMESTAMP.exec(textOf(value).trim())
    if (!m) return null
    const [, y, mo, d, h, mi, s, f, zone] = m
    let offsetMin = 0
    if (zone && zone.toUpperCase() !== 'Z') {
      const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)
      if (z) offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0))
    }
    const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0))
    epochMs = base - offsetMin * 60_000
    micros = Number((f ?? '').padEnd(6, '0').slice(0, 6))
  }
  const date = new Date(epochMs - (((epochMs % 1000) + 1000) % 1000))
  if (Number.isNaN(date.getTime())) return null
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0')
  const full =
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(micros, 6)}`
  return full.slice(0, timestampLength(precision))
}
