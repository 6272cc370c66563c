import { describe, expect, it } from 'vitest'
import { TandemError } from '../errors.js'
import type { ConfigIssue } from './load.js'
import { parseConfig } from './load.js'

describe('gateway client limits in tandem.yaml', () => {
  it('default to a 20s head timeout, 5s idle keep-alive and 8192 connections', () => {
    expect(parseConfig('version: 1\n').gateway).toMatchObject({
      headersTimeout: 20_000,
      idleTimeout: 5_000,
      maxConnections: 8192,
    })
    expect(
      parseConfig('version: 1\ngateway: { headersTimeout: 2s, idleTimeout: 500ms, maxConnections: 10 }\n').gateway,
    ).toMatchObject({
      headersTimeout: 2_000,
      idleTimeout: 500,
      maxConnections: 10,
    })
  })

  it('refuse 0 (which would switch the timeout off) with a located duration error', () => {
    try {
      parseConfig('version: 1\ngateway:\n  headersTimeout: 0s\n')
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(TandemError)
      const issues = (error as TandemError).details as ConfigIssue[]
      expect(issues).toMatchObject([{ code: 'TANDEM_ERR_CONFIG_DURATION', path: 'gateway.headersTimeout', line: 3 }])
    }
  })
})
