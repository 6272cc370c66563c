// Health checks of both targets of every active system (health.path every health.interval); the
// candidate's consecutive failures feed the `healthFailures` rollback trigger.
import { request } from 'undici'
import type { SystemConfig } from '../config/schema.js'
import { redactSecrets } from '../redact.js'
import { ARMS, type Arm } from '../domain/stages.js'

interface Probe {
  timer: NodeJS.Timeout
  failures: Record<Arm, number>
  last: Record<Arm, string>
  busy: boolean
}

export class HealthMonitor {
  readonly #probes = new Map<string, Probe>()

  /** Start checking `system` (idempotent); call stop when it leaves the active stages. */
  watch(system: SystemConfig): void {
    if (this.#probes.has(system.name) || system.legacy === undefined || system.candidate === undefined) return
    const probe: Probe = {
      failures: { legacy: 0, candidate: 0 },
      last: { legacy: 'not checked yet', candidate: 'not checked yet' },
      busy: false,
      timer: setInterval(() => void this.#check(system, probe), system.health.interval),
    }
    probe.timer.unref()
    this.#probes.set(system.name, probe)
    void this.#check(system, probe)
  }

  unwatch(name: string): void {
    const probe = this.#probes.get(name)
    if (probe === undefined) return
    clearInterval(probe.timer)
    this.#probes.delete(name)
  }

  /** Consecutive failed checks of one arm (0 when not watched). */
  failures(name: string, arm: Arm): number {
    return this.#probes.get(name)?.failures[arm] ?? 0
  }

  describe(name: string): Record<Arm, { failures: number; last: string }> | null {
    const p = this.#probes.get(name)
    if (p === undefined) return null
    return {
      legacy: { failures: p.failures.legacy, last: p.last.legacy },
      candidate: { failures: p.failures.candidate, last: p.last.candidate },
    }
  }

  stop(): void {
    for (const name of [...this.#probes.keys()]) this.unwatch(name)
  }

  async #check(system: SystemConfig, probe: Probe): Promise<void> {
    // A slow target must not pile up overlapping probes.
    if (probe.busy) return
    probe.busy = true
    try {
      await Promise.all(
        ARMS.map(async (arm) => {
          const url = new URL(system.health.path, system[arm]!.url).href
          const ok = await probeOnce(url, system.health.timeout).then(
            (status) => {
              probe.last[arm] = `${redactSecrets(url)} answered ${status}`
              return status >= 200 && status < 300
            },
            (error: Error) => {
              probe.last[arm] = redactSecrets(`${url}: ${error.message}`)
              return false
            },
          )
          probe.failures[arm] = ok ? 0 : probe.failures[arm] + 1
        }),
      )
    } finally {
      probe.busy = false
    }
  }
}

/** One health check of one arm: ok when it answers 2xx; the detail names the URL (secrets masked). */
export async function probeArm(system: SystemConfig, arm: Arm): Promise<{ ok: boolean; detail: string }> {
  const target = system[arm]
  if (target === undefined) return { ok: false, detail: `no ${arm} target` }
  const url = new URL(system.health.path, target.url).href
  return probeOnce(url, system.health.timeout).then(
    (status) => ({ ok: status >= 200 && status < 300, detail: `${redactSecrets(url)} answered ${status}` }),
    (error: Error) => ({ ok: false, detail: redactSecrets(`${url}: ${error.message}`) }),
  )
}

async function probeOnce(url: string, timeout: number): Promise<number> {
  const res = await request(url, { method: 'GET', headersTimeout: timeout, bodyTimeout: timeout })
  await res.body.dump()
  return res.statusCode
}
