// Bounded synthetic traffic for `tandem demo`: a few concurrent users reading todos through the gateway.
import { Agent, request } from 'undici'

export interface Traffic {
  readonly sent: () => number
  stop(): Promise<void>
}

export function startTraffic(
  gatewayUrl: string,
  options: { concurrency?: number; maxRequests?: number; pauseMs?: number } = {},
): Traffic {
  const { concurrency = 4, maxRequests = 60_000, pauseMs = 5 } = options
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 })
  let sent = 0
  let stopped = false
  const user = async (u: number) => {
    while (!stopped && sent < maxRequests) {
      const n = sent++
      const path = n % 5 === 0 ? '/todos?limit=10' : `/todos/${(n % 40) + 1}`
      try {
        const res = await request(`${gatewayUrl}${path}`, {
          dispatcher: agent,
          headers: { 'x-user-id': `user-${u}-${n % 200}` },
        })
        await res.body.dump()
      } catch {
        // A refused connection during shutdown is not the demo's concern.
      }
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs))
    }
  }
  const running = Promise.all(Array.from({ length: concurrency }, (_, u) => user(u)))
  return {
    sent: () => sent,
    async stop() {
      stopped = true
      await running
      await agent.close()
    },
  }
}
