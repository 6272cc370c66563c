// --id and --time extractors: JSON Pointer and $.path into the payload, headers, the broker message id.
import { describe, expect, it } from 'vitest'
import { TandemError } from '../errors.js'
import type { StoredEvent } from './event-stream.js'
import { agreedTime, idOf, parseExtractor, parsePath, toMillis } from './extractors.js'

const event = (payload: unknown, headers: Record<string, string> = {}): StoredEvent => ({
  position: '1',
  time: 1_700_000_000_000,
  messageId: 'm-1',
  headers,
  data: Buffer.from(JSON.stringify(payload)),
})

describe('extractors', () => {
  it('reads JSON Pointer and $.path forms, including escapes and array indexes', () => {
    const e = event({ order: { id: 'o-7', 'a/b': 3, items: [{ sku: 'x' }] } })
    expect(idOf(parseExtractor('/order/id', '--id'), e)).toBe('o-7')
    expect(idOf(parseExtractor('$.order.id', '--id'), e)).toBe('o-7')
    expect(idOf(parseExtractor('/order/a~1b', '--id'), e)).toBe('3')
    expect(idOf(parseExtractor('$.order.items[0].sku', '--id'), e)).toBe('x')
    expect(idOf(parseExtractor('$.order.missing', '--id'), e)).toBeUndefined()
    expect(parsePath('$.a["b c"]')).toEqual(['a', 'b c'])
  })

  it('reads headers case-insensitively and the broker id', () => {
    const e = event({}, { 'X-Order-Id': 'h-1' })
    expect(idOf(parseExtractor('header:x-order-id', '--id'), e)).toBe('h-1')
    expect(idOf(parseExtractor('message-id', '--id'), e)).toBe('m-1')
    expect(idOf(parseExtractor('header:Nats-Msg-Id', '--id'), e)).toBe('m-1')
  })

  it('rejects other forms with a coded error', () => {
    for (const bad of ['orderId', 'header:', '$', '$.a..b']) {
      expect(() => parseExtractor(bad, '--id')).toThrow(TandemError)
    }
  })

  it('takes the payload time, else the carried source time, else the broker time', () => {
    const e = event({ at: '2024-01-02T03:04:05.000Z', s: 1_700_000_100 }, { 'x-tandem-source-time': '1700000000500' })
    expect(agreedTime(e, parseExtractor('/at', '--time'))).toBe(Date.parse('2024-01-02T03:04:05.000Z'))
    expect(agreedTime(e, parseExtractor('/s', '--time'))).toBe(1_700_000_100_000)
    expect(agreedTime(e, undefined)).toBe(1_700_000_000_500)
    expect(agreedTime(event({}), undefined)).toBe(1_700_000_000_000)
    expect(toMillis(undefined)).toBeNaN()
  })
})
