// `tandem check` end to end: real health endpoints and webhook on loopback, real commands and files,
// the CLI in a child process; results land in the store with their output.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../src/store/open.js'
import { tandem } from '../support/cli.js'
import { system, tandemConfig, writeConfig } from '../support/config.js'

function listen(
  handler: (path: string, method: string, body: string) => number,
): Promise<{ server: Server; url: string; seen: string[] }> {
  const seen: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`)
      res.statusCode = handler(req.url ?? '/', req.method ?? 'GET', body)
      res.end(res.statusCode < 300 ? 'ok' : 'unhealthy: database down')
    })
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }),
    ),
  )
}

describe('tandem check', () => {
  let dir: string
  let config: string
  let healthy: Awaited<ReturnType<typeof listen>>
  let sick: Awaited<ReturnType<typeof listen>>
  let hook: Awaited<ReturnType<typeof listen>>

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-check-'))
    healthy = await listen((path) => (path === '/ready' ? 200 : 404))
    sick = await listen(() => 503)
    hook = await listen((_p, method) => (method === 'POST' ? 202 : 405))
    await writeFile(join(dir, 'plan.md'), '1. tandem rollback\n')
    await writeFile(join(dir, 'backup.dump'), 'dump')
    config = writeConfig(
      dir,
      tandemConfig({
        store: `sqlite:${join(dir, 'store.db')}`,
        defaults: { health: { path: '/ready' } },
        systems: [
          system('good', {
            legacy: healthy.url,
            checklist: {
              backup: { path: join(dir, 'backup.dump') },
              tests: { command: 'echo 12 tests passed' },
              dependencies: true,
              rollbackPlan: { file: join(dir, 'plan.md') },
              monitoring: true,
              notify: { webhook: `${hook.url}/hook` },
            },
          }),
          system('bad', {
            dependsOn: ['good'],
            legacy: healthy.url,
            candidate: sick.url,
            checklist: {
              tests: { command: "echo 'FAIL test/orders.test.ts > totals add up' >&2; exit 3" },
              dependencies: true,
              monitoring: true,
              custom: [{ name: 'slow-probe', command: 'sleep 30', timeout: '1s' }],
            },
          }),
        ],
      }),
    )
  })
  afterAll(async () => {
    for (const s of [healthy, sick, hook]) s.server.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('exits 0 when every configured check passes, and flags none as not configured', async () => {
    const r = await tandem(['check', 'good', '-c', config])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    for (const c of ['backup', 'tests', 'dependencies', 'rollbackPlan', 'monitoring', 'notify'])
      expect(r.stdout).toMatch(new RegExp(`PASS  ${c}`))
    expect(r.stdout).toContain('all configured checks pass')
    // The notify check really posted a Slack-compatible message.
    expect(hook.seen.some((s) => s.startsWith('POST /hook') && s.includes('"text"'))).toBe(true)
  })

  it('exits 1 and shows each failing check with its output; not-configured checks are flagged', async () => {
    const r = await tandem(['check', 'bad', '-c', config])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/FAIL {2}tests/)
    expect(r.stdout).toContain('FAIL test/orders.test.ts > totals add up')
    expect(r.stdout).toContain('(exit 3)')
    expect(r.stdout).toMatch(/FAIL {2}dependencies/)
    expect(r.stdout).toContain('good: pending (must be promoted or completed)')
    expect(r.stdout).toMatch(/FAIL {2}monitoring/)
    expect(r.stdout).toContain(`candidate: GET ${sick.url}/ready -> 503`)
    expect(r.stdout).toMatch(/FAIL {2}custom:slow-probe/)
    expect(r.stdout).toContain('timed out after 1000 ms')
    expect(r.stdout).toMatch(/-- {2}backup +not configured/)
    expect(r.stdout).toMatch(/-- {2}rollbackPlan +not configured/)
    expect(r.stdout).toContain('4 check(s) failed: tests, dependencies, monitoring, custom:slow-probe')
  })

  it('prints JSON with --json and persists every result with its output', async () => {
    const r = await tandem(['check', 'bad', '-c', config, '--json'])
    expect(r.code).toBe(1)
    const result = JSON.parse(r.stdout)
    expect(result).toMatchObject({ system: 'bad', ok: false })
    const tests = result.checks.find((c: { check: string }) => c.check === 'tests')
    expect(tests).toMatchObject({ configured: true, ok: false, status: 'fail' })
    expect(tests.output).toContain('totals add up')

    const store = await openStore(`sqlite:${join(dir, 'store.db')}`)
    try {
      const rows = await store.db
        .selectFrom('checklist_results')
        .selectAll()
        .where('system', '=', 'bad')
        .where('check', '=', 'tests')
        .execute()
      expect(rows.length).toBeGreaterThanOrEqual(2)
      expect(rows.every((row) => row.ok === 0 && row.configured === 1 && row.output.includes('totals add up'))).toBe(
        true,
      )
    } finally {
      await store.close()
    }
  })

  it('exits 2 with a coded error for an unknown system', async () => {
    const r = await tandem(['check', 'nope', '-c', config])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('TANDEM_ERR_SYSTEM_NOT_FOUND')
  })
})
