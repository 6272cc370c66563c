// WebSocket over TLS through the gateway (SPEC 3a): wss:// clients on the TLS listener to ws:// and
// wss:// (https://) targets, sticky on their arm and never mirrored, an untrusted target certificate
// refused with a coded 502, HTTP/2 clients on the same port while a tunnel is open, close both ways.
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { connect as h2connect } from 'node:http2'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { eventually } from '../support/eventually.js'
import type { TestInstance } from '../support/instance.js'
import { promValue } from '../support/loopback.js'
import { temporaryDir } from '../support/temp-dir.js'
import { makeCert, type TestCert } from './fixtures/certs.js'
import { h2Get } from './fixtures/h2-client.js'
import { startTandem } from './fixtures/start-tandem.js'
import { ask, open, wsOrigin, type WsOrigin } from './fixtures/ws-origin.js'

describe('WebSocket over TLS through the gateway', () => {
  let gatewayCert: TestCert
  let legacy: WsOrigin
  let candidate: WsOrigin
  let secure: WsOrigin
  let tandem: TestInstance
  let httpsBase: string
  let wssBase: string
  /** What a wss:// client of the gateway needs: trust the gateway's certificate, offer http/1.1 as browsers do. */
  let client: { ca: Buffer; ALPNProtocols: string[] }

  beforeAll(async () => {
    const dir = temporaryDir('tandem-wss-')
    gatewayCert = makeCert(dir, 'gateway')
    // The https:// target has a certificate of its own, trusted by the gateway only where its config says so.
    const originCert = makeCert(dir, 'origin')
    legacy = await wsOrigin('legacy')
    candidate = await wsOrigin('candidate')
    secure = await wsOrigin('secure', { cert: originCert.certPem, key: originCert.keyPem })
    const system = (name: string, legacyUrl: string, candidateUrl: string, extra = '') => `  - name: ${name}
    legacy: { url: ${legacyUrl}${extra} }
    candidate: { url: ${candidateUrl}${extra} }
    routes: [{ path: /${name}/** }]
    rollout: { stickiness: header:x-user-id }
`
    tandem = await startTandem(
      `version: 1
gateway: { tls: { cert: ${gatewayCert.cert}, key: ${gatewayCert.key} } }
systems:
${system('chat', legacy.url, candidate.url)}\
${system('secure', secure.url, secure.url, `, tls: { ca: ${originCert.cert} }`)}\
${system('untrusted', secure.url, secure.url)}\
${system('insecure', secure.url, secure.url, ', tls: { insecure: true }')}`,
      dir,
    )
    httpsBase = tandem.instance.gatewayUrl.replace('http://', 'https://')
    wssBase = tandem.instance.gatewayUrl.replace('http://', 'wss://')
    client = { ca: gatewayCert.certPem, ALPNProtocols: ['http/1.1'] }
  })

  afterAll(async () => {
    await tandem?.close()
    await Promise.all([legacy?.close(), candidate?.close(), secure?.close()])
  })

  it('echoes over wss on the sticky arm of the user, forwarded as https, never mirrored, counted', async () => {
    tandem.instance.routing.set('chat', { stage: 'canary', weight: 50, activeArm: 'legacy', paused: false })
    const session = h2connect(httpsBase, { ca: gatewayCert.certPem })
    const arms = new Set<string>()
    const upgradesBefore = legacy.upgrades.length + candidate.upgrades.length
    try {
      for (let i = 0; i < 16; i++) {
        const user = `user-${i}`
        const http = await h2Get(session, '/chat/x', { 'x-user-id': user })
        expect(http.status).toBe(200)
        const ws = await open(`${wssBase}/chat/room`, { 'x-user-id': user }, client)
        expect(await ask(ws, `hello ${i}`)).toBe(`${http.body}:hello ${i}:primary`)
        expect(await ask(ws, 'again')).toBe(`${http.body}:again:primary`)
        arms.add(http.body)
        ws.close()
        await once(ws, 'close')
      }
    } finally {
      session.close()
    }
    expect(arms).toEqual(new Set(['legacy', 'candidate']))
    const seen = [...legacy.upgrades, ...candidate.upgrades]
    expect(seen.length - upgradesBefore).toBe(16)
    // The gateway tells the plain ws:// target that the client's connection was encrypted.
    for (const { headers, encrypted } of seen) {
      expect({ proto: headers['x-forwarded-proto'], encrypted }).toEqual({ proto: 'https', encrypted: false })
    }
    const admin = tandem.instance.adminUrl
    expect(await promValue(admin, 'tandem_shadow_total', { system: 'chat', result: 'websocket' })).toBe(16)
    const accepted = (arm: string) =>
      promValue(admin, 'tandem_requests_total', { system: 'chat', route: '/chat/**', arm, status: '1xx' })
    expect((await accepted('legacy')) + (await accepted('candidate'))).toBe(16)
  })

  it('tunnels TLS on both sides to an https:// target it trusts (tls.ca) or does not check (insecure)', async () => {
    for (const name of ['secure', 'insecure']) {
      const before = secure.upgrades.length
      const ws = new WebSocket(`${wssBase}/${name}/room`, { ...client, headers: { 'x-user-id': 'tls' } })
      // 'open' follows 'upgrade' synchronously: wait for both together.
      const [[res]] = (await Promise.all([once(ws, 'upgrade'), once(ws, 'open')])) as [[IncomingMessage], unknown]
      const clientSide = res.socket as TLSSocket
      expect({ encrypted: clientSide.encrypted, alpn: clientSide.alpnProtocol }).toEqual({
        encrypted: true,
        alpn: 'http/1.1',
      })
      expect(await ask(ws, name)).toBe(`secure:${name}:primary`)
      expect(secure.upgrades.length).toBe(before + 1)
      const seen = secure.upgrades.at(-1)!
      expect({ encrypted: seen.encrypted, proto: seen.headers['x-forwarded-proto'] }).toEqual({
        encrypted: true,
        proto: 'https',
      })
      ws.close()
      await once(ws, 'close')
    }
  })

  it('refuses an upgrade to a target with an untrusted certificate (coded 502) and keeps serving', async () => {
    const before = secure.upgrades.length
    const refused = new WebSocket(`${wssBase}/untrusted/room`, client)
    const [, res] = (await once(refused, 'unexpected-response')) as [unknown, IncomingMessage]
    expect(res.statusCode).toBe(502)
    const chunks: Buffer[] = []
    for await (const c of res) chunks.push(c as Buffer)
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { code: string; message: string }
    expect(body.code).toBe('TANDEM_ERR_UPSTREAM_CONNECT')
    // The message names the target by its role, never by its address.
    expect(body.message).toContain('system "untrusted"')
    expect(body.message).not.toContain('127.0.0.1')
    expect(secure.upgrades.length).toBe(before)
    const errors = await promValue(tandem.instance.adminUrl, 'tandem_requests_total', {
      system: 'untrusted',
      arm: 'legacy',
      status: 'error',
    })
    expect(errors).toBe(1)
    const ws = await open(`${wssBase}/secure/after`, {}, client)
    expect(await ask(ws, 'still here')).toBe('secure:still here:primary')
    ws.close()
    await once(ws, 'close')
  })

  it('serves an HTTP/2 client on the same TLS port while wss connections are open', async () => {
    const ws = await open(`${wssBase}/chat/open`, { 'x-user-id': 'h2-neighbour' }, client)
    const arm = await ask(ws, 'first')
    // A client that offers no ALPN at all is served HTTP/1.1 too.
    const noAlpn = await open(`${wssBase}/chat/open`, { 'x-user-id': 'h2-neighbour' }, { ca: gatewayCert.certPem })
    expect(await ask(noAlpn, 'first')).toBe(arm)
    const session = h2connect(httpsBase, { ca: gatewayCert.certPem })
    try {
      await once(session, 'connect')
      expect(session.alpnProtocol).toBe('h2')
      for (let i = 0; i < 4; i++) {
        const answer = await h2Get(session, `/chat/h2-${i}`, { 'x-user-id': 'h2-neighbour' })
        expect(answer).toEqual({ status: 200, body: arm.split(':')[0] })
        expect(await ask(ws, `between ${i}`)).toBe(arm.replace('first', `between ${i}`))
      }
    } finally {
      session.close()
    }
    expect(await ask(ws, 'last')).toBe(arm.replace('first', 'last'))
    expect(await ask(noAlpn, 'last')).toBe(arm.replace('first', 'last'))
    for (const socket of [ws, noAlpn]) socket.close()
    await Promise.all([once(ws, 'close'), once(noAlpn, 'close')])
  })

  it('closing either side closes the other over TLS, to ws:// and wss:// targets', async () => {
    const closed = () => legacy.closed + candidate.closed + secure.closed
    for (const path of ['/chat/close', '/secure/close']) {
      // A clean close from the client reaches the target.
      let before = closed()
      const a = await open(`${wssBase}${path}`, { 'x-user-id': 'closer' }, client)
      a.close(1000, 'client done')
      await once(a, 'close')
      await eventually(async () => closed(), { until: (n) => n > before })
      // A clean close from the target reaches the client, code and reason intact.
      const b = await open(`${wssBase}${path}`, { 'x-user-id': 'closer' }, client)
      const [code, reason] = (await Promise.all([once(b, 'close'), b.send('bye')]))[0] as [number, Buffer]
      expect({ code, reason: String(reason) }).toEqual({ code: 1000, reason: 'server says bye' })
      // A client that drops its connection without a close frame: the target's side closes too.
      before = closed()
      const c = await open(`${wssBase}${path}`, { 'x-user-id': 'closer' }, client)
      c.terminate()
      await eventually(async () => closed(), { until: (n) => n > before })
      // A target that drops its connection: the client's connection closes (abnormally, 1006).
      const d = await open(`${wssBase}${path}`, { 'x-user-id': 'closer' }, client)
      const [dropped] = (await Promise.all([once(d, 'close'), d.send('drop')]))[0] as [number]
      expect(dropped).toBe(1006)
    }
  })
})
