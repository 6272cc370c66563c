// Properties of the canonical encoding (the SQLite encoder and the reference the SQL dialects follow).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalText, canonicalTimestamp, normalizeDecimal, rowEncoding, rowHash } from './canonical.js'
import { resolveKind } from './kinds.js'

const decimal = { family: 'decimal', precision: 6 } as const
const text = { family: 'text', precision: 6 } as const

function scaled(m: bigint, scale: number): string {
  const neg = m < 0n
  const digits = (neg ? -m : m).toString().padStart(scale + 1, '0')
  const body = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`
  return `${neg ? '-' : ''}${body}`
}

describe('canonical encoding', () => {
  it('decimals equal in value encode equally whatever their scale', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        (m, s, extra) => {
          const a = scaled(m, s)
          const b = scaled(m * 10n ** BigInt(extra), s + extra)
          expect(canonicalText(decimal, a)).toBe(canonicalText(decimal, b))
        },
      ),
    )
  })

  it('decimals different in value encode differently', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        fc.integer({ min: 0, max: 4 }),
        (a, b, s) => {
          fc.pre(a !== b)
          expect(canonicalText(decimal, scaled(a, s))).not.toBe(canonicalText(decimal, scaled(b, s + 2)))
        },
      ),
    )
  })

  it(
    'the same instant encodes equally from naive UTC text, ' +
      'ISO with Z and an offset; different instants differently',
    () => {
      const min = Date.UTC(1971, 0, 1) * 1000
      const max = Date.UTC(2100, 0, 1) * 1000
      fc.assert(
        fc.property(
          fc.integer({ min: min / 1000, max: max / 1000 }),
          fc.integer({ min: 0, max: 999_999 }),
          fc.integer({ min: 1, max: 999_999 }),
          (ms, us, delta) => {
            const base = new Date(Math.floor(ms / 1000) * 1000)
            const iso = base.toISOString().slice(0, 19)
            const frac = String(us).padStart(6, '0')
            const naive = canonicalTimestamp(`${iso.replace('T', ' ')}.${frac}`, 6)
            expect(canonicalTimestamp(`${iso}.${frac}Z`, 6)).toBe(naive)
            const shifted = new Date(base.getTime() + 2 * 3600_000).toISOString().slice(0, 19)
            expect(canonicalTimestamp(`${shifted}.${frac}+02:00`, 6)).toBe(naive)
            const later = (us + delta) % 1_000_000
            fc.pre(later !== us)
            expect(canonicalTimestamp(`${iso}.${String(later).padStart(6, '0')}Z`, 6)).not.toBe(naive)
          },
        ),
      )
    },
  )

  it('the row encoding is injective: NULL, empty string, the string NULL and separators never collide', () => {
    const value = fc.oneof(
      fc.constant(null),
      fc.constant(''),
      fc.constant('NULL'),
      fc.constant('N'),
      fc.constant('1:'),
      fc.string({ unit: 'binary', maxLength: 6 }),
    )
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 5 }),
        fc.array(value, { minLength: 1, maxLength: 5 }),
        (a, b) => {
          expect(rowEncoding(a) === rowEncoding(b)).toBe(JSON.stringify(a) === JSON.stringify(b))
        },
      ),
    )
  })

  it('hashes rows into 60 bits and keeps unicode spellings apart', () => {
    expect(rowHash(['é']) < 2n ** 60n).toBe(true)
    expect(canonicalText(text, 'e\u0301')).not.toBe(canonicalText(text, '\u00e9'))
    expect(rowHash(['e\u0301'])).not.toBe(rowHash(['\u00e9']))
    expect(rowHash([null])).not.toBe(rowHash(['']))
  })

  it('booleans, uuids and floats normalise across driver representations', () => {
    const bool = resolveKind({ family: 'bool', precision: 6 }, { family: 'int', precision: 6 })
    expect([true, 1, 1n, 't', 'true'].map((v) => canonicalText(bool, v))).toEqual(['1', '1', '1', '1', '1'])
    expect([false, 0, 0n, 'f', 'false'].map((v) => canonicalText(bool, v))).toEqual(['0', '0', '0', '0', '0'])
    const uuid = { family: 'uuid', precision: 6 } as const
    expect(canonicalText(uuid, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')
    const float = { family: 'float', precision: 6 } as const
    expect(canonicalText(float, 0.1 + 0.2)).toBe('0.3')
    expect(canonicalText(float, 1e-7)).toBe('0')
    expect(canonicalText(float, -2.5e-6)).toBe('-0.000003')
    expect(canonicalText(float, 12345.6789125)).toBe('12345.678913')
    expect(normalizeDecimal('-0.000')).toBe('0')
    expect(normalizeDecimal('1.5E+3')).toBe('1500')
  })
})
