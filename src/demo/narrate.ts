// How `tandem demo` tells the story: one short line per verdict and decision, with elapsed time.
import type { Verdict } from '../analysis/verdict.js'
import type { Decision } from '../store/system-state.js'

export type Line = (text: string) => void

export function narrator(write: (s: string) => void, started = Date.now()): Line {
  return (text) => write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${text}\n`)
}

const n = (v: number | null | undefined, digits = 3): string =>
  v === null || v === undefined ? 'n/a' : Number.isInteger(v) ? String(v) : v.toFixed(digits)

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : `${v.toFixed(1)}ms`)

/** `pass  errors 0.000  p95 7.1ms (legacy 9.0ms)  match 0.86  n=120` */
export function describeVerdict(v: Verdict): string {
  const rule = (name: string) => v.rules.find((r) => r.rule === name)
  const errors = rule('rollback.errorRate')
  const p95 = rule('rollback.latencyP95')
  const match = rule('rollback.matchRate')
  const parts = [
    v.verdict.padEnd(12),
    `errors ${n(errors?.value)}`,
    `p95 ${ms(p95?.value)} (legacy ${ms(p95?.baseline)})`,
    `match ${n(match?.value, 2)}`,
    `n=${v.samples.candidate}`,
  ]
  return v.verdict === 'pass' ? parts.join('  ') : `${parts.join('  ')}  -> ${v.reason}`
}

export function describeDecision(d: Decision): string {
  const where = d.toStage === 'canary' ? `canary ${d.weight}%` : d.toStage
  return `${d.action.toUpperCase()} by ${d.actor}: ${d.fromStage} -> ${where}. ${d.reason}`
}
