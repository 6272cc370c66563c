// Streaming responses (SPEC 3a): server-sent events and chunked downloads reach the client chunk by
// chunk. The upstream sends its next chunk only after the client has received the previous one, so a
// gateway that waited for the end of the body would never finish (no timing involved).
import type { ServerResponse } from 'node:http'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { system, tandemConfig } from '../support/config.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { origin, type Origin } from '../support/loopback.js'

/** A resolvable promise: the upstream waits on it between chunks. */
function signal(): { wait: Promise<void>; fire: () => void } {
  let fire!: () => void
  const wait = new Promise<void>((r) => (fire = r))
  return { wait, fire }
}

describe('streaming responses through the gateway', () => {
  let upstream: Origin
  let tandem: TestInstance
  /** One signal per chunk after the first: the test fires it once the client saw the chunk before. */
  let steps: { wait: Promise<void>; fire: () => void }[] = []

  async function send(res: ServerResponse, chunks: readonly string[]): Promise<void> {
    for (let i = 0; i < chunks.length; i++) {
      if (i > 0) await steps[i - 1]!.wait
      res.write(chunks[i])
    }
    res.end()
  }

  beforeAll(async () => {
    upstream = await origin((req, res) => {
      if (req.url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
        void send(res, ['data: one\n\n', 'data: two\n\n', 'data: three\n\n'])
      } else {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }) // chunked: no content-length
        void send(res, ['first-', 'second-', 'third'])
      }
    })
    tandem = await buildInstance(tandemConfig({ systems: [system('stream', { legacy: upstream.url })] }))
  })

  afterAll(async () => {
    await tandem?.close()
    await upstream?.close()
  })

  /** Read the body; after each chunk received, let the upstream send the next. */
  async function readStepwise(path: string, count: number): Promise<{ received: string[]; type: string }> {
    steps = Array.from({ length: count - 1 }, signal)
    const res = await request(`${tandem.instance.gatewayUrl}${path}`)
    const received: string[] = []
    let text = ''
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString()
      received.push(text)
      // The upstream is blocked until this fires: the chunk came through before the next was sent.
      steps[received.length - 1]?.fire()
    }
    return { received, type: String(res.headers['content-type']) }
  }

  it('server-sent events arrive one event at a time', async () => {
    const { received, type } = await readStepwise('/events', 3)
    expect(type).toBe('text/event-stream')
    expect(received[0]).toBe('data: one\n\n')
    expect(received.at(-1)).toBe('data: one\n\ndata: two\n\ndata: three\n\n')
  })

  it('a chunked download arrives chunk by chunk', async () => {
    const { received } = await readStepwise('/download', 3)
    expect(received[0]).toBe('first-')
    expect(received.at(-1)).toBe('first-second-third')
  })
})
