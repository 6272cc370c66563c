// The store's tables, typed for kysely. JSON columns hold text; times are epoch milliseconds.
import type { ColumnType, Generated } from 'kysely'
import type { Arm, Stage } from '../domain/stages.js'

export interface SystemStateTable {
  system: string
  stage: Stage
  /** Percent of traffic to the candidate, 0..100 in 0.01 steps. */
  weight: number
  /** Index into rollout.steps; -1 before the first step. */
  step_index: number
  step_started_at: number | null
  paused: number
  /** Blue-green: the colour serving traffic. */
  active_arm: Arm
  started_at: number | null
  promoted_at: number | null
  completed_at: number | null
  updated_at: number
  /** Optimistic concurrency: every write increments it. */
  version: number
}

export interface DecisionTable {
  id: Generated<number>
  system: string
  /** 1, 2, 3 ... per system, no gap and no duplicate. */
  seq: number
  action: string
  actor: string
  reason: string
  from_stage: Stage
  to_stage: Stage
  weight: number
  step_index: number
  evidence: string | null
  at: number
  /** The controller lease term (fencing token) a controller decision was written under; null for operators. */
  lease_token: number | null
}

export interface VerdictTable {
  id: Generated<number>
  system: string
  at: number
  stage: Stage
  step_index: number
  weight: number
  verdict: 'pass' | 'fail' | 'inconclusive'
  judge: string
  score: number | null
  window_start: number
  window_end: number
  /** JSON: per rule { metric, value, threshold, samples, window, result, dryRun }. */
  evidence: string
}

export interface MetricWindowTable {
  id: Generated<number>
  system: string
  route: string
  arm: Arm
  window_start: number
  window_end: number
  requests: number
  errors: number
  successes: number
  p50_ms: number | null
  p95_ms: number | null
  p99_ms: number | null
  mean_ms: number | null
}

export interface CompareRouteTable {
  system: string
  route: string
  compared: number
  matches: number
  mismatches: number
  noise_only: number
  skipped: number
  candidate_errors: number
  updated_at: number
}

export interface CompareFieldTable {
  system: string
  route: string
  path: string
  kind: string
  raw: number
  noise: number
  total: number
  updated_at: number
}

export interface CompareSampleTable {
  id: Generated<number>
  system: string
  route: string
  path: string
  at: number
  /** JSON: { request, legacy, candidate, differences }, redacted before it is written. */
  sample: string
}

export interface CompareWindowTable {
  id: Generated<number>
  system: string
  window_start: number
  window_end: number
  matches: number
  mismatches: number
  noise_only: number
  skipped: number
  candidate_errors: number
}

/** Skipped comparisons per route and reason (migration 0002-compare). */
export interface CompareSkipTable {
  system: string
  route: string
  reason: string
  count: number
  updated_at: number
}

export interface ChecklistResultTable {
  id: Generated<number>
  system: string
  check: string
  ok: number
  configured: number
  output: string
  at: number
}

export interface AuditTable {
  id: Generated<number>
  at: number
  actor: string
  role: string
  action: string
  target: string | null
  params: string | null
  result: string
  detail: string | null
}

/** The program's halt state (migration 0003-program-state): a single row, id 1. */
export interface ProgramStateTable {
  id: number
  halted: number
  reason: string | null
  actor: string | null
  /** The wave whose rollbacks halted the program; null for a manual halt. */
  wave: string | null
  at: number
  version: number
}

/** The controller lease (SPEC 11): one row, renewed by its holder, taken over when expired. */
export interface ControllerLeaseTable {
  name: string
  holder: string
  /** Fencing token: incremented on every take-over; a controller write must carry the current one. */
  token: number
  /** Epoch milliseconds on the database's clock. */
  expires_at: number
  acquired_at: number
}

/** One second of one instance's metrics per system x route x arm (migration 0005-metric-seconds). */
export interface MetricSecondTable {
  /** hostname:pid:random of the writing process. */
  instance: string
  system: string
  route: string
  arm: Arm
  /** Epoch seconds. */
  second: number
  requests: number
  errors: number
  successes: number
  /** HdrHistogram V2 compressed base64 of the latencies in microseconds; null without requests. */
  histogram: string | null
  /** Comparison results of the second (kept on the candidate arm's row). */
  matches: number
  mismatches: number
  noise_only: number
  skipped: number
  candidate_errors: number
}

/** A datastore or events system's verified-through watermark (migration 0006-move-watermarks). */
export interface MoveWatermarkTable {
  system: string
  /** The rollout run (system_state.started_at) the watermark belongs to; a new run starts over. */
  run_started_at: number
  /** Both sides are proven equal up to this time (ms) over a contiguous run of passing windows. */
  verified_through: number
  /** When the last full table diff ran. */
  full_at: number
  /** JSON: byte offsets already counted in the reconciliation, replay and shadow-read logs. */
  cursors: string
  updated_at: number
}

export interface Database {
  system_state: SystemStateTable
  decisions: DecisionTable
  verdicts: VerdictTable
  metric_windows: MetricWindowTable
  compare_routes: CompareRouteTable
  compare_fields: CompareFieldTable
  compare_samples: CompareSampleTable
  compare_windows: CompareWindowTable
  compare_skips: CompareSkipTable
  checklist_results: ChecklistResultTable
  audit: AuditTable
  program_state: ProgramStateTable
  controller_lease: ControllerLeaseTable
  metric_seconds: MetricSecondTable
  move_watermarks: MoveWatermarkTable
}

export type JsonText = ColumnType<string, string, string>
