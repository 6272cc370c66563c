// Keeping a streaming gateway's memory bounded. Three things made `tandem up` peak near 190 MB while a
// 50 MiB body went through, against ~105 MB when idle:
// - Start-up garbage (loading fastify, zod, kysely...) grows V8's young generation to 2 x 16 MiB, which
//   then stays committed.
// - Every chunk of a streamed body arrives in its own socket buffer, held outside the JS heap. Once
//   forwarded it is garbage, but V8 frees it only when the young generation fills up or external
//   memory has grown by tens of MB: ~30 MB waited.
// - undici parses responses with llhttp compiled to WebAssembly. A long body makes the parser hot,
//   and V8 then recompiles it with TurboFan, whose compilation zone took ~35 MB on a background thread
//   (seen with gdb on mprotect: Pipeline::GenerateCodeForWasmFunction), on top of the running process.
// So a process that serves the gateway compiles llhttp with TurboFan first thing, while the process is
// still small (the zone is freed afterwards, and the optimised parser is ~5 % less CPU per request than
// staying on the baseline compiler), keeps the young generation at its initial size while it starts,
// and asks for a scavenge (a young-generation GC, well under a millisecond) after every few MiB
// streamed. These V8 flags are read when they are used, so setting them at run time takes effect.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Readable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Bytes streamed between two scavenges. */
const SCAVENGE_EVERY = 4 * 1024 * 1024

let scavenge: (() => void) | null = null
let sinceScavenge = 0

/** Bound the memory of this process for streaming. Call it first thing, before modules are loaded. */
export async function boundStreamingMemory(): Promise<void> {
  if (scavenge !== null) return
  setFlagsFromString('--semi-space-growth-factor=1')
  setFlagsFromString('--expose-gc')
  // The gc function exists in contexts created after the flag is set.
  const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void
  scavenge = () => gc({ type: 'minor' })
  // Only a memory optimisation: when it cannot run, the parser is compiled later, under load.
  await compileHttpParser().catch(() => {})
}

/**
 * undici instantiates llhttp on its first connection: make one to a loopback listener of our own,
 * with Liftoff off so that the module is compiled by TurboFan right away (~0.3 s).
 */
async function compileHttpParser(): Promise<void> {
  const { Client } = await import('undici')
  const server = createServer((_req, res) => res.end())
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  setFlagsFromString('--no-liftoff')
  try {
    await (await client.request({ method: 'GET', path: '/' })).body.dump()
  } finally {
    setFlagsFromString('--liftoff')
    await client.close()
    server.close()
  }
}

/**
 * Start-up is over: the young generation may grow again (V8's default factor), as request load needs.
 * Streams leave little behind that survives a scavenge, so they do not grow it.
 */
export function startupDone(): void {
  if (scavenge !== null) setFlagsFromString('--semi-space-growth-factor=2')
}

/** Count body bytes that went through; past the threshold, collect the buffers they left behind. */
export function streamed(bytes: number): void {
  if (scavenge === null) return
  sinceScavenge += bytes
  if (sinceScavenge >= SCAVENGE_EVERY) {
    sinceScavenge = 0
    scavenge()
  }
}

/** Count the chunks of a request body as they go upstream (paused first, so no chunk is missed). */
export function countStreamedBody(body: Readable): void {
  if (scavenge === null) return
  body.pause()
  body.on('data', (chunk: Buffer) => streamed(chunk.length))
}
