import { describe, expect, it } from 'vitest'
import { filterWithinStream, subjectSubsetOf } from './nats-subjects.js'

describe('NATS subject filters within a stream (issue 12: ?subject= outside the stream)', () => {
  it('accepts literals and narrower wildcards within a pattern', () => {
    expect(subjectSubsetOf('orders.created', 'orders.>')).toBe(true)
    expect(subjectSubsetOf('orders.*', 'orders.>')).toBe(true)
    expect(subjectSubsetOf('orders.>', 'orders.>')).toBe(true)
    expect(subjectSubsetOf('orders.eu.created', 'orders.*.created')).toBe(true)
    expect(subjectSubsetOf('orders.*.created', 'orders.*.created')).toBe(true)
    expect(subjectSubsetOf('orders.created', 'orders.created')).toBe(true)
    expect(subjectSubsetOf('anything.at.all', '>')).toBe(true)
  })

  it('refuses filters that match subjects the stream does not store', () => {
    expect(subjectSubsetOf('other.x', 'orders.>')).toBe(false)
    expect(subjectSubsetOf('*', 'orders.>')).toBe(false)
    expect(subjectSubsetOf('>', 'orders.>')).toBe(false)
    expect(subjectSubsetOf('orders', 'orders.>')).toBe(false)
    expect(subjectSubsetOf('orders.>', 'orders.*')).toBe(false)
    expect(subjectSubsetOf('orders.eu.created', 'orders.*')).toBe(false)
    expect(subjectSubsetOf('orders.*', 'orders.created')).toBe(false)
    expect(subjectSubsetOf('orders.created.x', 'orders.created')).toBe(false)
  })

  it('checks against every subject of the stream', () => {
    expect(filterWithinStream('b.x', ['a.>', 'b.*'])).toBe(true)
    expect(filterWithinStream('c.x', ['a.>', 'b.*'])).toBe(false)
    expect(filterWithinStream('c.x', [])).toBe(true)
  })
})
