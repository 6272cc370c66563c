// The data store migration toolkit: data diff, dual-write, shadow-read and reconciliation.
export { dataDiff, summaryOf, type DataDiffOptions, type DataDiffResult, type DataDiffSummary } from './diff.js'
export type { DiffRow } from './rows.js'
export { dualWrite, type DualWriteOptions, type DualWriter } from './dual-write.js'
export { shadowRead, type ShadowReadOptions, type ShadowReader, type ShadowMismatch } from './shadow-read.js'
export { ReconciliationLog, readReconcileLog, type ReconcileEntry, type WriteOp } from './reconcile-log.js'
export { reconcile, type ReconcileOptions, type ReconcileResult } from './reconcile.js'
