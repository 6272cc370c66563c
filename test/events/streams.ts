// Throwaway streams on the real brokers for the events tests (one per call, uniquely named, dropped after),
// and a CLI bridge killed mid-way then restarted from its checkpoint.
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import amqp from 'amqplib'
import { Redis } from 'ioredis'
import { connect } from 'nats'
import { BIN, tandem, type CliRun } from '../support/cli.js'
import { services, uniqueName } from '../support/services.js'
import type { EventStream, StoredEvent } from '../../src/events/event-stream.js'
import { openStream } from '../../src/events/open-stream.js'

export type Kind = 'nats' | 'amqp' | 'redis'

export interface TestStream {
  readonly url: string
  readonly stream: EventStream
  drop(): Promise<void>
}

export async function makeStream(kind: Kind): Promise<TestStream> {
  const name = uniqueName('ev')
  let url: string
  let cleanup: () => Promise<void>
  if (kind === 'nats') {
    const nc = await connect({ servers: services.nats })
    const jsm = await nc.jetstreamManager()
    await jsm.streams.add({ name, subjects: [`${name}.>`] })
    await nc.close()
    url = `${services.nats}/${name}?subject=${name}.events`
    cleanup = async () => {
      const c = await connect({ servers: services.nats })
      await (await c.jetstreamManager()).streams.delete(name)
      await c.close()
    }
  } else if (kind === 'amqp') {
    url = `${services.rabbitmq}/%2f?stream=${name}`
    cleanup = async () => {
      const c = await amqp.connect(services.rabbitmq)
      const ch = await c.createChannel()
      await ch.deleteQueue(name)
      await c.close()
    }
  } else {
    url = `${services.redis}/0?stream=${name}`
    cleanup = async () => {
      const r = new Redis(services.redis)
      await r.del(name)
      await r.quit()
    }
  }
  const stream = await openStream(url, { create: true })
  return {
    url,
    stream,
    drop: async () => {
      await stream.close()
      await cleanup()
    },
  }
}

/** Publishes order events `o-<n>` with JSON payloads, in order, awaiting each batch's acknowledgements. */
export async function publishOrders(
  stream: EventStream,
  ids: readonly string[],
  headers: Record<string, string> = {},
): Promise<void> {
  for (let i = 0; i < ids.length; i += 200) {
    await Promise.all(
      ids
        .slice(i, i + 200)
        .map((id) => stream.publish({ id, data: JSON.stringify({ orderId: id, amount: id.length }), headers })),
    )
  }
}

export function orderIds(n: number, prefix = 'o'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`)
}

/** Every message of `stream` (after the position `after`, when given), in order. */
export async function readAll(stream: EventStream, after?: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = []
  for await (const batch of stream.read(after === undefined ? {} : { after })) out.push(...batch)
  return out
}

/**
 * Run `tandem events bridge` from `from` to `to` and SIGKILL it once it has acknowledged three batches
 * (bounded wait); resolves with the checkpoint it left behind.
 */
export async function bridgeKilledMidway(
  from: string,
  to: string,
  checkpoint: string,
): Promise<{ position: string; copied: number }> {
  const args = ['events', 'bridge', '--from', from, '--to', to, '--checkpoint', checkpoint, '--batch', '100']
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let progressed = 0
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bridge made no progress')), 90_000)
    child.stderr.on('data', (d: Buffer) => {
      progressed += (d.toString().match(/copied/g) ?? []).length
      if (progressed >= 3) {
        clearTimeout(timer)
        child.kill('SIGKILL')
        resolve()
      }
    })
  })
  await new Promise((r) => child.once('close', r))
  return JSON.parse(await readFile(checkpoint, 'utf8')) as { position: string; copied: number }
}

/** The same bridge restarted from its checkpoint, run until idle (`--json`). */
export function resumeBridge(from: string, to: string, checkpoint: string): Promise<CliRun> {
  return tandem(['events', 'bridge', '--from', from, '--to', to, '--checkpoint', checkpoint, '--until-idle', '--json'])
}
