// The IPC protocol between `tandem up --workers N`'s primary and its gateway workers (node:cluster,
// advanced serialization): the primary pushes config and routing, workers report calls and exchanges.
import type { Exchange } from '../compare/sink.js'
import type { Config } from '../config/schema.js'
import type { SystemRouting } from '../domain/routing-table.js'
import type { Arm } from '../domain/stages.js'
import type { ShadowResult } from '../gateway/diagnostics.js'

/** One recorded call: which channel (request or mirror), system, route, arm, status, duration, time. */
export type CallRecord = readonly ['request' | 'mirror', string, string, Arm, number, number, number]

export type ToWorker =
  | {
      readonly type: 'init'
      readonly config: Config
      readonly routing: Record<string, SystemRouting>
      readonly listen: string
    }
  | { readonly type: 'config'; readonly config: Config }
  | { readonly type: 'routing'; readonly system: string; readonly routing: SystemRouting; readonly sentAt: number }
  | { readonly type: 'shutdown'; readonly drainMs: number }

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'listening'; readonly url: string }
  | {
      readonly type: 'report'
      readonly calls: readonly CallRecord[]
      readonly shadows: ReadonlyArray<readonly [string, ShadowResult]>
      readonly exchanges: readonly Exchange[]
    }
  | { readonly type: 'routed'; readonly system: string; readonly sentAt: number }
  | { readonly type: 'error'; readonly message: string }

/** How often a worker sends what it recorded (a batch also goes out once it holds this many calls). */
export const REPORT_INTERVAL_MS = 20
export const REPORT_MAX_CALLS = 2000
