// Kafka position vectors: parse/format round trip, the per-partition order, and cursor advance.
import { describe, expect, it } from 'vitest'
import { advanceVector, compareVectors, formatVector, parseVector } from './kafka-positions.js'

describe('Kafka offset vectors', () => {
  it('round-trips and sorts by partition', () => {
    expect(formatVector(parseVector('2:7,0:41,1:-1')!)).toBe('0:41,1:-1,2:7')
  })

  it.each(['', '0', '0:x', 'a:1', '0:1,0:2', '0:-2'])('rejects %j', (text) => {
    expect(parseVector(text)).toBeUndefined()
  })

  it('is caught up only when every partition is', () => {
    const end = parseVector('0:10,1:5')!
    expect(compareVectors(parseVector('0:10,1:5')!, end)).toBe(0)
    expect(compareVectors(parseVector('0:11,1:5')!, end)).toBeGreaterThan(0)
    expect(compareVectors(parseVector('0:99,1:4')!, end)).toBeLessThan(0)
    expect(compareVectors(parseVector('0:10')!, end)).toBeLessThan(0)
  })

  it('advances each partition to the last offset read in it', () => {
    const next = advanceVector(parseVector('0:3,1:-1')!, [
      { position: '1:0' },
      { position: '0:4' },
      { position: '1:2' },
      { position: '1:1' },
    ])
    expect(formatVector(next)).toBe('0:4,1:2')
  })
})
