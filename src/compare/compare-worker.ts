// Worker-thread entry: compares exchanges with large bodies off the main event loop.
import { parentPort } from 'node:worker_threads'
import {
  compareExchange,
  compileCompareSettings,
  type CompareConfig,
  type CompareSettings,
} from './compare-exchange.js'
import type { ArmResult, Exchange } from './sink.js'

export interface WorkerRequest {
  readonly id: number
  readonly exchange: Exchange
  readonly config: CompareConfig
  /** Fields whose samples are complete: no sample is built for differences only there; null: no samples. */
  readonly fullFields: readonly string[] | null
}

export type WorkerReply =
  | { readonly id: number; readonly outcome: ReturnType<typeof compareExchange> }
  | { readonly id: number; readonly error: string }

// Compiled settings per distinct config text: reloads are rare, exchanges many.
const settings = new Map<string, CompareSettings>()

/** Structured clone turns Buffers into plain Uint8Arrays; give them back their Buffer methods. */
function asBuffer(u: Uint8Array | null): Buffer | null {
  return u === null ? null : Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

function rehydrate(r: ArmResult | undefined): ArmResult | undefined {
  return r === undefined || !r.ok ? r : { ...r, body: asBuffer(r.body)! }
}

parentPort?.on('message', (msg: WorkerRequest) => {
  try {
    const key = JSON.stringify(msg.config)
    let s = settings.get(key)
    if (s === undefined) {
      if (settings.size > 64) settings.clear()
      s = compileCompareSettings(msg.config)
      settings.set(key, s)
    }
    const full = msg.fullFields === null ? null : new Set(msg.fullFields)
    const ex = msg.exchange
    const exchange: Exchange = {
      ...ex,
      request: { ...ex.request, body: asBuffer(ex.request.body) },
      legacy: rehydrate(ex.legacy)!,
      candidate: rehydrate(ex.candidate)!,
      secondary: rehydrate(ex.secondary),
    }
    parentPort!.postMessage({
      id: msg.id,
      outcome: compareExchange(exchange, s, (d) => full !== null && !full.has(d.field)),
    } satisfies WorkerReply)
  } catch (error) {
    parentPort!.postMessage({ id: msg.id, error: (error as Error).message } satisfies WorkerReply)
  }
})
