import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileDiffOptions, diff, equivalent, type Difference } from './diff.js'
import { compileGlob, globMatches, parsePointer, toPointer } from './pointer.js'

const json = fc.jsonValue({ maxDepth: 4 })
const sortKey = (d: Difference): string => `${d.path} ${d.kind}`
const mirrorKind = { added: 'removed', removed: 'added', changed: 'changed', type: 'type' } as const

describe('diff properties', () => {
  it('diff(a, a) is empty', () => {
    fc.assert(fc.property(json, (a) => diff(a, structuredClone(a)).length === 0))
  })

  it('diff(b, a) mirrors diff(a, b)', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        const forward = diff(a, b).map((d) => ({
          path: d.path,
          kind: mirrorKind[d.kind],
          legacy: d.candidate,
          candidate: d.legacy,
        }))
        const backward = diff(b, a).map((d) => ({
          path: d.path,
          kind: d.kind,
          legacy: d.legacy,
          candidate: d.candidate,
        }))
        expect(backward.sort((x, y) => sortKey(x as Difference).localeCompare(sortKey(y as Difference)))).toEqual(
          forward.sort((x, y) => sortKey(x as Difference).localeCompare(sortKey(y as Difference))),
        )
      }),
    )
  })

  it('ignored paths never appear', () => {
    const key = fc.constantFrom('id', 'updatedAt', 'meta', 'a', 'b')
    const doc = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.string(),
        fc.dictionary(key, tie('node')),
        fc.array(tie('node'), { maxLength: 3 }),
      ),
    })).node
    const patterns = fc.array(fc.constantFrom('/meta', '**/updatedAt', '/a/*/id', '/*/b', '**/id'), {
      minLength: 1,
      maxLength: 3,
    })
    fc.assert(
      fc.property(doc, doc, patterns, (a, b, ignore) => {
        const globs = ignore.map(compileGlob)
        for (const d of diff(a, b, compileDiffOptions({ ignore }))) {
          const segs = parsePointer(d.path)
          for (let n = 0; n <= segs.length; n++)
            for (const g of globs) expect(globMatches(g, segs.slice(0, n))).toBe(false)
        }
      }),
    )
  })

  it('an unordered array equals any permutation of itself', () => {
    const options = compileDiffOptions({ unordered: ['/items'] })
    fc.assert(
      fc.property(
        fc
          .array(json, { maxLength: 12 })
          .chain((items) =>
            fc.tuple(
              fc.constant(items),
              fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length }),
            ),
          ),
        ([items, shuffled]) => diff({ items }, { items: shuffled }, options).length === 0,
      ),
    )
  })
})

describe('diff', () => {
  it('ignores key order', () => {
    expect(diff({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 })).toEqual([])
  })

  it('compares arrays by index by default (no sorting)', () => {
    expect(diff({ xs: [1, 2] }, { xs: [2, 1] }).map((d) => d.path)).toEqual(['/xs/0', '/xs/1'])
  })

  it('reports kinds with RFC 6901 escaped paths and generalised field keys', () => {
    const out = diff(
      { 'a/b': 1, 'c~d': 'x', items: [{ price: 1 }, { price: 2 }], gone: true },
      { 'a/b': 2, 'c~d': 1, items: [{ price: 1 }, { price: 3 }], extra: null },
    )
    expect(out).toEqual([
      { path: '/a~1b', field: '/a~1b', kind: 'changed', legacy: 1, candidate: 2 },
      { path: '/c~0d', field: '/c~0d', kind: 'type', legacy: 'x', candidate: 1 },
      { path: '/items/1/price', field: '/items/*/price', kind: 'changed', legacy: 2, candidate: 3 },
      { path: '/gone', field: '/gone', kind: 'removed', legacy: true, candidate: undefined },
      { path: '/extra', field: '/extra', kind: 'added', legacy: undefined, candidate: null },
    ])
  })

  it('ignore globs: * is one segment, ** any depth', () => {
    const a = { meta: { requestId: 'x', other: 1 }, items: [{ updatedAt: 1, n: 1 }], deep: { x: { updatedAt: 2 } } }
    const b = { meta: { requestId: 'y', other: 2 }, items: [{ updatedAt: 9, n: 1 }], deep: { x: { updatedAt: 3 } } }
    expect(diff(a, b, compileDiffOptions({ ignore: ['/meta/requestId', '**/updatedAt'] })).map((d) => d.path)).toEqual([
      '/meta/other',
    ])
    expect(diff(a, b, compileDiffOptions({ ignore: ['/*/requestId'] })).map((d) => d.path)).toEqual([
      '/meta/other',
      '/items/0/updatedAt',
      '/deep/x/updatedAt',
    ])
  })

  it('unordered arrays are multisets: a duplicate counts', () => {
    const out = diff({ items: [1, 1, 2] }, { items: [2, 1, 3] }, compileDiffOptions({ unordered: ['/items'] }))
    expect(out).toEqual([
      { path: '/items/1', field: '/items/*', kind: 'removed', legacy: 1, candidate: undefined },
      { path: '/items/2', field: '/items/*', kind: 'added', legacy: undefined, candidate: 3 },
    ])
  })

  it('keyed arrays match elements by their key field', () => {
    const a = {
      items: [
        { id: 1, price: 5 },
        { id: 2, price: 7 },
        { id: 3, price: 1 },
      ],
    }
    const b = {
      items: [
        { id: 2, price: 8 },
        { id: 1, price: 5 },
        { id: 4, price: 1 },
      ],
    }
    expect(diff(a, b, compileDiffOptions({ keyedArrays: { '/items': 'id' } }))).toEqual([
      { path: '/items/1/price', field: '/items/*/price', kind: 'changed', legacy: 7, candidate: 8 },
      { path: '/items/2', field: '/items/*', kind: 'removed', legacy: { id: 3, price: 1 }, candidate: undefined },
      { path: '/items/2', field: '/items/*', kind: 'added', legacy: undefined, candidate: { id: 4, price: 1 } },
    ])
  })

  it('numeric tolerance', () => {
    expect(diff({ x: 1.0 }, { x: 1.004 }, compileDiffOptions({ numericTolerance: 0.01 }))).toEqual([])
    expect(diff({ x: 1.0 }, { x: 1.02 }, compileDiffOptions({ numericTolerance: 0.01 }))).toHaveLength(1)
    expect(equivalent([1, { a: 2 }], [1, { a: 2 }])).toBe(true)
  })

  it('pointer round trip', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (segs) => {
        expect(parsePointer(toPointer(segs))).toEqual(segs)
      }),
    )
  })
})
