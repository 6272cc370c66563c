// datastore and events systems in tandem.yaml: their blocks, their triggers, and keys of another kind.
import { describe, expect, it } from 'vitest'
import { checkConfigText, parseConfig } from './load.js'

const datastore = `version: 1
systems:
  - name: orders-db
    kind: datastore
    datastore:
      from: postgres://127.0.0.1:5432/test
      to: mysql://root@127.0.0.1:3306/test
      tables: [{ name: orders, key: id, updatedAt: updated_at }]
      fullEvery: 10m
    analysis: { interval: 5s, rollback: { dataMismatches: "> 0", dualWriteFailures: "> 2" }, promote: { maxLag: 30s } }
`

describe('move systems in the config', () => {
  it('reads a datastore system with its tables, lag, fullEvery and triggers', () => {
    const s = parseConfig(datastore).systems[0]!
    expect(s.datastore).toMatchObject({
      tables: [{ name: 'orders', key: ['id'], updatedAt: 'updated_at' }],
      lag: 5000,
      fullEvery: 600_000,
    })
    expect(s.analysis.rollback.dualWriteFailures).toMatchObject({ op: '>', value: 2, relative: false })
    expect(s.analysis.promote.maxLag).toBe(30_000)
    expect(s.routes).toEqual([])
  })

  it('reads an events system', () => {
    const text = `version: 1
systems:
  - name: orders-events
    kind: events
    events:
      { from: "nats://127.0.0.1:4222/ORDERS", to: "redis://127.0.0.1:6379/0?stream=orders", id: /orderId, lag: 2s }
`
    expect(parseConfig(text).systems[0]!.events).toMatchObject({ id: '/orderId', lag: 2000, bucket: 10_000 })
  })

  it('refuses keys of another kind with a code naming what the kind takes', () => {
    const text = datastore
      .replace('    kind: datastore\n', '    kind: datastore\n    routes: [{ path: /x }]\n')
      .replace('dataMismatches: "> 0"', 'missingEvents: "> 0"')
    const out = checkConfigText(text)
    expect(out.ok).toBe(false)
    if (out.ok) return
    const kinds = out.failure.issues.filter((i) => i.code === 'TANDEM_ERR_CONFIG_KIND')
    expect(kinds.map((i) => i.path).sort()).toEqual(['systems[0].analysis.rollback.missingEvents', 'systems[0].routes'])
    expect(kinds[0]!.message).toContain('a datastore system takes `datastore:')
  })

  it('refuses the block of a move on an http system', () => {
    const http = checkConfigText(`version: 1
systems:
  - name: h
    legacy: { url: http://127.0.0.1:1 }
    candidate: { url: http://127.0.0.1:2 }
    routes: [{ path: /** }]
    events: { from: a, to: b, id: /id }
`)
    expect(!http.ok && http.failure.issues.map((i) => [i.code, i.path])).toEqual([
      ['TANDEM_ERR_CONFIG_KIND', 'systems[0].events'],
    ])
  })

  it('takes a checklist dataDiff/eventsVerify with verifiedWithin alone, or a full diff, not half of one', () => {
    const withCheck = (check: string) => `${datastore}    checklist: { ${check} }\n`
    const alone = parseConfig(withCheck('dataDiff: { verifiedWithin: 10m }')).systems[0]!.checklist.dataDiff
    expect(alone).toMatchObject({ verifiedWithin: 600_000 })
    const half = checkConfigText(withCheck('dataDiff: { from: "postgres://x/y", verifiedWithin: 10m }'))
    expect(!half.ok && half.failure.issues.map((i) => [i.code, i.path])).toEqual([
      ['TANDEM_ERR_CONFIG_REQUIRED', 'systems[0].checklist.dataDiff'],
    ])
    expect(checkConfigText(withCheck('eventsVerify: { from: a, to: b, id: /id }')).ok).toBe(true)
  })
})
