// A throwaway Prometheus server for the tests: Debian's `prometheus` on a free loopback port, its own config
// and storage directory, scraping the given targets every second. Fails (never skips) when it is missing:
// `.ci/run` installs it.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'

export const PROMETHEUS = process.env.TANDEM_TEST_PROMETHEUS ?? '/usr/bin/prometheus'

export interface PrometheusServer {
  /** http://127.0.0.1:PORT */
  readonly url: string
  /** Resolves once every target has been scraped successfully (bounded). */
  scraped(): Promise<void>
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}

/** A user Prometheus asks for with basic auth: the password and its bcrypt hash (cost 4, for speed). */
export const BASIC_AUTH = {
  user: 'ops',
  password: 'Pr0m-test-pw',
  bcrypt: '$2b$04$5xxAqr70MG0IHZttT5OZees4juEj8.a7E6Eezxxh4J91DO4W9eN1.',
}

/** Start Prometheus scraping `targets` (`host:port` of /metrics endpoints) every second. */
export async function startPrometheus(
  targets: readonly string[],
  options: { readonly basicAuth?: boolean } = {},
): Promise<PrometheusServer> {
  if (!existsSync(PROMETHEUS)) {
    throw new Error(`${PROMETHEUS} is missing: apt-get install -y prometheus (the custom-metric tests need it)`)
  }
  const dir = await mkdtemp(join(tmpdir(), 'tandem-prometheus-'))
  const config = join(dir, 'prometheus.yml')
  await writeFile(
    config,
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: app
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs: [{ targets: ${JSON.stringify(targets)} }]
`,
  )
  const web = join(dir, 'web.yml')
  const users = `basic_auth_users: { ${BASIC_AUTH.user}: "${BASIC_AUTH.bcrypt}" }\n`
  await writeFile(web, options.basicAuth ? users : '{}\n')
  const port = await freePort()
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.config.file=${web}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)))
  const exited = once(child, 'exit')
  const url = `http://127.0.0.1:${port}`
  const basic = Buffer.from(`${BASIC_AUTH.user}:${BASIC_AUTH.password}`).toString('base64')
  const auth: Record<string, string> = options.basicAuth ? { authorization: `Basic ${basic}` } : {}
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
    await rm(dir, { recursive: true, force: true })
  }
  const poll = async (what: string, ok: () => Promise<boolean>) => {
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${log}`)
      if (await ok().catch(() => false)) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`prometheus: ${what} not reached in 30 s: ${log}`)
  }
  try {
    await poll('ready', async () => {
      const res = await request(`${url}/-/ready`, { headers: auth })
      await res.body.dump()
      return res.statusCode === 200
    })
  } catch (error) {
    await stop()
    throw error
  }
  return {
    url,
    scraped: () =>
      poll('a successful scrape of every target', async () => {
        const query = encodeURIComponent('min(up{job="app"})')
        const res = await request(`${url}/api/v1/query?query=${query}`, { headers: auth })
        const body = (await res.body.json()) as { data: { result: Array<{ value: [number, string] }> } }
        return body.data.result[0]?.value[1] === '1'
      }),
    stop,
  }
}
