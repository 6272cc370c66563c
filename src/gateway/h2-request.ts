// HTTP/2 requests as the gateway reads them: the compat request of node:http2 with the pseudo-headers
// (`:method`, `:path`...) left out of `headers`/`rawHeaders` and `:authority` given as `host`, and a
// response that has `destroyed` and drops HTTP/1.1 status phrases, like node:http's.
import { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { IncomingHttpHeaders } from 'node:http'

const HEADERS = Symbol('tandem.headers')
const RAW = Symbol('tandem.rawHeaders')

type Cached = { [HEADERS]?: IncomingHttpHeaders; [RAW]?: string[] }

export class TandemH2Request extends Http2ServerRequest {}
export class TandemH2Response extends Http2ServerResponse {}

Object.defineProperty(TandemH2Response.prototype, 'destroyed', {
  get(this: Http2ServerResponse): boolean {
    return this.stream.destroyed
  },
})

const requestProto = Http2ServerRequest.prototype
const headersOf = Object.getOwnPropertyDescriptor(requestProto, 'headers')!.get!
const rawHeadersOf = Object.getOwnPropertyDescriptor(requestProto, 'rawHeaders')!.get!

Object.defineProperties(TandemH2Request.prototype, {
  headers: {
    get(this: TandemH2Request & Cached): IncomingHttpHeaders {
      let out = this[HEADERS]
      if (out === undefined) {
        const all = headersOf.call(this) as IncomingHttpHeaders
        out = {}
        for (const name in all) if (name.charCodeAt(0) !== 58 /* : */) out[name] = all[name]
        const authority = all[':authority']
        if (out.host === undefined && typeof authority === 'string') out.host = authority
        this[HEADERS] = out
      }
      return out
    },
  },
  rawHeaders: {
    get(this: TandemH2Request & Cached): string[] {
      let out = this[RAW]
      if (out === undefined) {
        const all = rawHeadersOf.call(this) as string[]
        out = []
        let authority: string | undefined
        let host = false
        for (let i = 0; i < all.length; i += 2) {
          const name = all[i]!
          if (name === ':authority') authority = all[i + 1]
          else if (name.charCodeAt(0) !== 58) {
            if (name === 'host') host = true
            out.push(name, all[i + 1]!)
          }
        }
        if (!host && authority !== undefined) out.push('host', authority)
        this[RAW] = out
      }
      return out
    },
  },
})

const writeHead = Http2ServerResponse.prototype.writeHead
Object.defineProperty(TandemH2Response.prototype, 'writeHead', {
  value(this: Http2ServerResponse, status: number, message?: unknown, headers?: unknown) {
    // HTTP/2 has no status phrase: node:http2 warns about one, so the upstream's is dropped here.
    return typeof message === 'string' || message === undefined
      ? Reflect.apply(writeHead, this, headers === undefined ? [status] : [status, headers])
      : Reflect.apply(writeHead, this, [status, message])
  },
})
