// The registry of adapters following flags: most recent first, expired after the TTL, bounded in size.
import { expect, it } from 'vitest'
import { CLIENT_TTL_MS, FlagClients, MAX_CLIENTS } from './clients.js'

it('lists the clients following a system, most recent first, and forgets silent ones', () => {
  let now = 1_000_000
  const clients = new FlagClients(() => now)
  clients.synced('a', 'checkout')
  now += 10
  clients.synced('b', 'checkout, pricing')
  clients.synced(undefined, 'checkout')
  expect(clients.following('checkout')).toEqual([
    { id: 'b', lastSyncAt: now },
    { id: 'a', lastSyncAt: now - 10 },
  ])
  expect(clients.following('pricing').map((c) => c.id)).toEqual(['b'])
  now += CLIENT_TTL_MS + 5
  expect(clients.following('checkout')).toEqual([])
})

it('keeps at most MAX_CLIENTS, dropping the one synced longest ago', () => {
  const clients = new FlagClients(() => 5)
  for (let i = 0; i <= MAX_CLIENTS; i++) clients.synced(`c${i}`, 's')
  const ids = clients.following('s').map((c) => c.id)
  expect(ids).toHaveLength(MAX_CLIENTS)
  expect(ids).not.toContain('c0')
  expect(ids[0]).toBe(`c${MAX_CLIENTS}`)
})
