// Refuses an admin listener that would be reachable beyond loopback while no token protects it:
// with no token configured every caller is admin, which is only acceptable on the local machine.
import { isIP } from 'node:net'
import type { Config } from '../config/schema.js'
import { TandemError } from '../errors.js'

/** The host part of `host:port` or `[v6]:port`, without brackets. */
export function listenHost(listen: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(listen)
  if (bracketed) return bracketed[1]!
  return listen.slice(0, listen.lastIndexOf(':'))
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host)
  return false
}

/** Throw TANDEM_ERR_ADMIN_UNSAFE_BIND when admin.listen is not loopback and admin.tokens is empty. */
export function assertAdminBindSafe(config: Config, listen: string = config.admin.listen): void {
  if (config.admin.tokens.length > 0) return
  if (!isLoopbackHost(listenHost(listen))) throw new TandemError('TANDEM_ERR_ADMIN_UNSAFE_BIND', { listen })
}
