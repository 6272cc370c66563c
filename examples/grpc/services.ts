// The gRPC example's services (orders.proto): "legacy" on 127.0.0.1:9101 and its "candidate" rewrite on
// 127.0.0.1:9102, whose answers differ on purpose (a changed price, an added note, NOT_FOUND for one id)
// so that `tandem diffs` has something to show. Run: npx tsx examples/grpc/services.ts
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as loader from '@grpc/proto-loader'
import { ReflectionService } from '@grpc/reflection'

export const PROTO = fileURLToPath(new URL('./orders.proto', import.meta.url))

export interface Order {
  id: string
  customer: string
  items: { sku: string; quantity: number; price: number }[]
  totalCents: string
  traceId: string
  note?: string
}

type Summary = { count: number }

export interface OrdersBehaviour {
  /** The rewrite's differences: price of the second item, an added note, NOT_FOUND for id "404". */
  readonly rewrite: boolean
  /** Where `traceId` comes from: it differs between any two instances (noise). */
  readonly now?: () => string
}

function loadDefinition(): loader.PackageDefinition {
  return loader.loadSync(PROTO, { keepCase: false, longs: String, defaults: false })
}

export function loadOrdersService(): grpc.ServiceDefinition {
  const definition = loadDefinition()
  type Package = { orders: { v1: { Orders: { service: grpc.ServiceDefinition } } } }
  const pkg = grpc.loadPackageDefinition(definition) as unknown as Package
  return pkg.orders.v1.Orders.service
}

function order(id: string, b: OrdersBehaviour): Order {
  const items = [
    { sku: 'tea', quantity: 2, price: 3.5 },
    { sku: 'cup', quantity: 1, price: b.rewrite ? 9.99 : 8.99 },
  ]
  return {
    id,
    customer: `customer-${id}`,
    items,
    totalCents: String(items.reduce((t, i) => t + Math.round(i.price * 100) * i.quantity, 0)),
    traceId: (b.now ?? (() => Math.random().toString(16).slice(2)))(),
    ...(b.rewrite ? { note: 'rewritten' } : {}),
  }
}

/** The Orders handlers of one instance. */
export function ordersHandlers(b: OrdersBehaviour): grpc.UntypedServiceImplementation {
  return {
    GetOrder(call: grpc.ServerUnaryCall<{ id: string }, Order>, callback: grpc.sendUnaryData<Order>) {
      if (b.rewrite && call.request.id === '404') {
        return callback({ code: grpc.status.NOT_FOUND, details: 'no such order' })
      }
      callback(null, order(call.request.id, b))
    },
    ListOrders(call: grpc.ServerWritableStream<{ limit: number }, Order>) {
      for (let i = 1; i <= (call.request.limit || 3); i++) call.write(order(String(i), b))
      call.end()
    },
    ImportOrders(call: grpc.ServerReadableStream<Order, Summary>, callback: grpc.sendUnaryData<Summary>) {
      let count = 0
      call.on('data', () => count++)
      call.on('end', () => callback(null, { count }))
    },
    Watch(call: grpc.ServerDuplexStream<{ id: string }, Order>) {
      call.on('data', (r: { id: string }) => call.write(order(r.id, b)))
      call.on('end', () => call.end())
    },
  }
}

/**
 * Start one instance on `address` (port 0 for any); resolves with the bound port. `reflection` also serves
 * gRPC server reflection (v1 and v1alpha), which `grpc: { reflection: true }` asks for the types.
 */
export async function startOrders(
  address: string,
  b: OrdersBehaviour,
  options: { reflection?: boolean } = {},
): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server()
  server.addService(loadOrdersService(), ordersHandlers(b))
  if (options.reflection === true) new ReflectionService(loadDefinition()).addToServer(server)
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, p) => {
      if (error) reject(error)
      else resolve(p)
    }),
  )
  return { port, server }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await startOrders('127.0.0.1:9101', { rewrite: false }, { reflection: true })
  await startOrders('127.0.0.1:9102', { rewrite: true })
  await startOrders('127.0.0.1:9103', { rewrite: false }) // legacy's second instance: noise detection
  console.log('orders legacy on 127.0.0.1:9101 (second instance 9103), candidate on 127.0.0.1:9102')
}
