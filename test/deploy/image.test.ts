// The image `npm run image` builds (SPEC 14), run with podman as an operator runs it: the default
// command on the image's own tandem.yaml is healthy by its HEALTHCHECK, a mounted read-only tandem.yaml
// forwards to a legacy service on the host, tandem runs as a non-root user on a read-only root
// filesystem with its store on the volume, and SIGTERM drains in-flight requests before exiting 0.
// It fails, never skips, where podman is missing: .ci/run installs it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildImage, type BuiltImage } from '../../scripts/image/build.js'
import { run, runCommand } from '../../scripts/image/exec.js'
import { withPostgresSchema } from '../support/postgres.js'

const TOKEN = 'image-test-admin-token-0123456789'

let image: BuiltImage
let legacy: Origin
let candidate: Origin
let dir: string
const containers: string[] = []

interface Origin {
  readonly url: string
  readonly server: Server
  /** Requests seen, by path. */
  readonly seen: string[]
}

/** A loopback HTTP service; given `held`, it answers /slow/* only once `release()` is called. */
function origin(name: string, held?: Array<() => void>): Promise<Origin> {
  const seen: string[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url!)
    const answer = () => res.end(`${name} ${req.url}`)
    if (held !== undefined && req.url!.startsWith('/slow/')) held.push(answer)
    else answer()
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen })
    })
  })
}

const held: Array<() => void> = []
const release = () => held.splice(0).forEach((answer) => answer())

function podman(args: readonly string[]) {
  return run('podman', args)
}

function containerName(what: string): string {
  const name = `tandem-image-test-${what}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`
  containers.push(name)
  return name
}

/** uid and gid of the container's main process, read from the host's /proc (rootful podman). */
async function processIds(name: string): Promise<{ uid: number; gid: number }> {
  const pid = (await podman(['inspect', '--format', '{{.State.Pid}}', name])).trim()
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)![1]) }
}

/** Exit code of a container that has stopped or is stopping. */
async function exitCode(name: string): Promise<number> {
  return Number((await podman(['wait', name])).trim())
}

/** tandem.yaml for a container on the host's network: listeners on free loopback ports, one system. */
function mountedConfig(what: string, store: string): string {
  const configDir = join(dir, what)
  mkdirSync(configDir)
  writeFileSync(
    join(configDir, 'tandem.yaml'),
    `version: 1
gateway: { listen: 127.0.0.1:0 }
admin:
  listen: 127.0.0.1:0
  tokens: [{ name: ops, role: admin, token: env:TANDEM_ADMIN_TOKEN }]
store: ${store}
systems:
  - name: api
    legacy: { url: ${legacy.url} }
    candidate: { url: ${candidate.url} }
    routes: [{ path: /** }]
`,
  )
  return configDir
}

/** Run the image on a tandem.yaml mounted read-only; resolves once `tandem up --json` says where it listens. */
async function runMounted(
  what: string,
  store: string,
  env: Record<string, string> = {},
): Promise<{ name: string; summary: { gateway: string; admin: string } }> {
  const configDir = mountedConfig(what, store)
  const name = containerName(what)
  // Host networking so the container reaches the legacy service on the host's loopback.
  await podman([
    'run',
    '--detach',
    '--name',
    name,
    '--network',
    'host',
    '--read-only',
    '--volume',
    `${configDir}:/etc/tandem:ro`,
    ...Object.entries({ TANDEM_ADMIN_TOKEN: TOKEN, ...env }).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    image.tags[0]!,
    'up',
    '--json',
    '-c',
    '/etc/tandem/tandem.yaml',
  ])
  const summary = await vi.waitFor(
    async () => {
      const logs = await runCommand('podman', ['logs', name])
      if (logs.stdout.trim() === '') throw new Error(`not up yet: ${logs.stderr.slice(-2000)}`)
      return JSON.parse(logs.stdout) as { gateway: string; admin: string }
    },
    { timeout: 120_000, interval: 250 },
  )
  return { name, summary }
}

/**
 * The image, built once for the file. Each test awaits it, so that where the build cannot run (podman
 * missing) every test fails with the reason instead of being reported as skipped.
 */
let building: Promise<BuiltImage> | undefined
async function built(): Promise<BuiltImage> {
  building ??= (async () => {
    const version = await runCommand('podman', ['--version'])
    expect(version.code, 'podman is needed: apt-get install -y podman buildah runc debootstrap').toBe(0)
    return buildImage()
  })()
  image = await building
  return image
}

// The first test waits for the build: a cold one (debootstrap, compiling better-sqlite3) takes minutes.
const BUILD_TIMEOUT = 45 * 60_000

beforeAll(async () => {
  legacy = await origin('legacy', held)
  candidate = await origin('candidate')
  dir = mkdtempSync(join(tmpdir(), 'tandem-image-'))
})

afterAll(async () => {
  release()
  for (const name of containers) await runCommand('podman', ['rm', '--force', '--volumes', name])
  for (const o of [legacy, candidate]) if (o !== undefined) await new Promise((resolve) => o.server.close(resolve))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('the tandem image', () => {
  it(
    'is tagged with the version and latest, runs tandem ' + 'up on /etc/tandem/tandem.yaml as a non-root user',
    async () => {
      await built()
      const version = (
        JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
      ).version
      expect(image.tags).toEqual([`localhost/tandem:${version}`, 'localhost/tandem:latest'])
      const ids = await Promise.all(
        image.tags.map(async (tag) => (await podman(['image', 'inspect', '--format', '{{.Id}}', tag])).trim()),
      )
      expect(ids).toEqual([image.id, image.id])

      const [inspected] = JSON.parse(await podman(['image', 'inspect', image.tags[0]!])) as Array<{
        Config: { User: string; Entrypoint: string[]; Cmd: string[]; Volumes: Record<string, unknown> }
        Healthcheck?: { Test: string[] }
      }>
      const config = inspected!.Config
      expect(config.User).toBe('10001:10001')
      expect(config.Entrypoint).toEqual(['tandem'])
      expect(config.Cmd).toEqual(['up', '-c', '/etc/tandem/tandem.yaml'])
      expect(Object.keys(config.Volumes)).toEqual(['/var/lib/tandem'])
      expect(inspected!.Healthcheck?.Test).toEqual(['CMD', 'node', '/usr/local/lib/tandem/healthcheck.mjs'])
    },
    BUILD_TIMEOUT,
  )

  it(
    'refuses to start on its own tandem.yaml without an ' + 'admin token, since the admin listener is on 0.0.0.0',
    async () => {
      await built()
      const name = containerName('no-token')
      await podman(['run', '--detach', '--name', name, '--network', 'none', '--read-only', image.tags[0]!])
      expect(await exitCode(name)).toBe(2)
      const logs = await runCommand('podman', ['logs', name])
      expect(logs.stdout + logs.stderr).toContain('TANDEM_ERR_CONFIG_ENV_MISSING')
    },
    BUILD_TIMEOUT,
  )

  it(
    'with the token: healthy by its HEALTHCHECK, as uid 10001, and stopped by SIGTERM with exit code 0',
    async () => {
      await built()
      const name = containerName('default')
      // A network of its own: the default listeners on 0.0.0.0 stay inside the container.
      await podman([
        'run',
        '--detach',
        '--name',
        name,
        '--network',
        'none',
        '--read-only',
        '--env',
        `TANDEM_ADMIN_TOKEN=${TOKEN}`,
        image.tags[0]!,
      ])
      await vi.waitFor(async () => expect((await runCommand('podman', ['healthcheck', 'run', name])).code).toBe(0), {
        timeout: 120_000,
        interval: 500,
      })
      expect(await processIds(name)).toEqual({ uid: 10001, gid: 10001 })
      await podman(['kill', '--signal', 'TERM', name])
      expect(await exitCode(name)).toBe(0)
    },
    BUILD_TIMEOUT,
  )

  it(
    'serves a mounted read-only tandem.yaml: /healthz, forwarding to ' +
      'a legacy on the host, a store on its volume, a drain on SIGTERM',
    async () => {
      await built()
      const { name, summary } = await runMounted('mounted', 'sqlite:/var/lib/tandem/tandem.db')

      const health = await request(`${summary.admin}/healthz`)
      expect(health.statusCode).toBe(200)
      expect(await health.body.json()).toEqual({ status: 'ok' })

      const forwarded = await request(`${summary.gateway}/orders/7`)
      expect(forwarded.statusCode).toBe(200)
      expect(await forwarded.body.text()).toBe('legacy /orders/7')
      expect(legacy.seen).toContain('/orders/7')

      expect(await processIds(name)).toEqual({ uid: 10001, gid: 10001 })
      const store = await podman(['exec', name, 'ls', '-n', '/var/lib/tandem'])
      expect(store).toContain('tandem.db')

      // A request held by the legacy service is in flight when SIGTERM arrives: it completes, then tandem exits 0.
      const inFlight = request(`${summary.gateway}/slow/1`)
      await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 30_000, interval: 50 })
      await podman(['kill', '--signal', 'TERM', name])
      await vi.waitFor(
        async () =>
          expect((await runCommand('podman', ['logs', name])).stderr).toContain('draining in-flight requests'),
        {
          timeout: 30_000,
          interval: 100,
        },
      )
      release()
      const drained = await inFlight
      expect(drained.statusCode).toBe(200)
      expect(await drained.body.text()).toBe('legacy /slow/1')
      expect(await exitCode(name)).toBe(0)
    },
    BUILD_TIMEOUT,
  )

  it(
    'runs as replicas on one PostgreSQL store, as deploy/kubernetes ' + 'does: an action through one reaches the other',
    async () => {
      await built()
      const schema = await withPostgresSchema()
      try {
        // The store URL comes from the environment, as the Kubernetes Secret provides it.
        const replicas = await Promise.all(
          ['replica-a', 'replica-b'].map((what) =>
            runMounted(what, 'env:TANDEM_STORE_URL', { TANDEM_STORE_URL: schema.url }),
          ),
        )
        for (const { summary } of replicas) {
          const res = await request(`${summary.gateway}/stock/1`)
          expect(res.statusCode).toBe(200)
          expect(await res.body.text()).toBe('legacy /stock/1')
        }
        const [a, b] = replicas.map((r) => r.summary)
        const auth = { authorization: `Bearer ${TOKEN}` }
        const started = await request(`${a!.admin}/api/v1/systems/api/actions/start`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ force: true, reason: 'image test' }),
        })
        expect(started.statusCode, await started.body.text()).toBe(200)
        await vi.waitFor(
          async () => {
            const res = await request(`${b!.admin}/api/v1/systems`, { headers: auth })
            const body = (await res.body.json()) as { systems: Array<{ name: string; stage: string }> }
            expect(body.systems.find((s) => s.name === 'api')?.stage).toBe('shadow')
          },
          { timeout: 30_000, interval: 200 },
        )
        for (const { name } of replicas) {
          await podman(['kill', '--signal', 'TERM', name])
          expect(await exitCode(name)).toBe(0)
        }
      } finally {
        await schema.drop()
      }
    },
    BUILD_TIMEOUT,
  )
})
