// The identity of this process among the instances sharing a store: hostname:pid:random. It keys the
// metrics it writes to the store and labels its own /metrics (tandem_instance_info).
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'

/** A new id; each process (each worker of `tandem up` too) makes its own once. */
export function newInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
}
