// A throwaway Kafka cluster for the tests: librdkafka's mock cluster (3 brokers) through Debian's kcat,
// a real Kafka-protocol peer. Fails (never skips) when kcat is missing: `.ci/run` installs it.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { uniqueName } from '../support/services.js'

export const KCAT = process.env.TANDEM_TEST_KCAT ?? '/usr/bin/kcat'

export interface MockCluster {
  /** `host:port,host:port,host:port`. */
  readonly bootstrap: string
  /** A kafka:// URL of a fresh topic on this cluster (created with 4 partitions on first use). */
  topicUrl(prefix?: string, query?: string): string
  stop(): Promise<void>
}

export async function startMockCluster(): Promise<MockCluster> {
  if (!existsSync(KCAT))
    throw new Error(`${KCAT} is missing: apt-get install -y kcat (the Kafka tests need librdkafka's mock cluster)`)
  const child: ChildProcess = spawn(
    KCAT,
    ['-b', '127.0.0.1:1', '-X', 'test.mock.num.brokers=3', '-C', '-t', uniqueName('kcat'), '-d', 'mock', '-q'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  const bootstrap = await new Promise<string>((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(
      () => reject(new Error(`kcat printed no bootstrap.servers in 20 s: ${seen.slice(0, 500)}`)),
      20_000,
    )
    child.stderr!.on('data', (b: Buffer) => {
      if (seen.length < 100_000) seen += b.toString()
      const m = /bootstrap\.servers=(\S+)/.exec(seen)
      if (m !== null) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    child.once('exit', (code) => reject(new Error(`kcat exited with ${code}: ${seen.slice(0, 500)}`)))
  })
  // The debug log goes on for the cluster's life: keep draining it.
  child.stderr!.resume()
  return {
    bootstrap,
    topicUrl: (prefix = 'orders', query = '') =>
      `kafka://${bootstrap}/${uniqueName(prefix).replace(/_/g, '-')}${query}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGKILL')
      }),
  }
}
