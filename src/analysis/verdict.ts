// Builds one analysis verdict (pass | fail | inconclusive) from a window of metrics: the rollback
// triggers and promote rule of SPEC 2, optionally the Mann-Whitney judge, each with its evidence.
import { comparedCount, matchRate as matchRateOf } from '../compare/match-rate.js'
import type { ComparisonCounts } from '../compare/sink.js'
import type { SystemConfig } from '../config/schema.js'
import { compare, type Threshold } from '../config/units.js'
import type { ArmWindow } from '../metrics/reader.js'
import type { Arm } from '../domain/stages.js'
import { classify, errorIndicators, judge, type JudgeMetric, type JudgeResult } from './judge.js'
import type { RuleEvidence, RuleResult, VerdictResult } from './evidence.js'
import { customRules, type CustomReading } from './prometheus-rule.js'

export type { RuleEvidence, RuleResult, VerdictResult } from './evidence.js'

export interface Verdict {
  readonly system: string
  readonly window: { readonly start: number; readonly end: number }
  readonly verdict: VerdictResult
  readonly judge: 'threshold' | 'mann-whitney'
  readonly score: number | null
  /** One sentence: why this verdict. */
  readonly reason: string
  readonly rules: readonly RuleEvidence[]
  /** True when every (non-dry-run) promote rule holds. */
  readonly promoteOk: boolean
  readonly samples: { readonly legacy: number; readonly candidate: number; readonly minSamples: number }
  readonly judgement?: JudgeResult
  /** Datastore and events systems: what continuous verification found (keys, ids, window, watermark). */
  readonly findings?: unknown
}

export interface AnalysisInput {
  readonly system: string
  readonly window: { readonly start: number; readonly end: number }
  readonly arms: Record<Arm, ArmWindow>
  readonly comparisons: ComparisonCounts | null
  /** Consecutive failed health checks of the candidate. */
  readonly healthFailures: number
  readonly analysis: SystemConfig['analysis']
  /** The custom metrics' readings from Prometheus (src/analysis/prometheus-rule.ts), when configured. */
  readonly custom?: readonly CustomReading[]
}

const successRate = (w: ArmWindow): number | null => (w.requests > 0 ? w.successes / w.requests : null)

export function analyse(input: AnalysisInput): Verdict {
  const { analysis, arms, window } = input
  const legacy = arms.legacy
  const candidate = arms.candidate
  const min = analysis.minSamples
  const dry = new Set(analysis.dryRun)
  const armSamples = { legacy: legacy.requests, candidate: candidate.requests }
  const compared = input.comparisons === null ? 0 : comparedCount(input.comparisons)
  const matchRate = input.comparisons === null ? null : matchRateOf(input.comparisons)
  const compareSamples = { legacy: compared, candidate: compared }

  const rule = (
    kind: 'rollback' | 'promote',
    metric: string,
    threshold: Threshold | null,
    value: number | null,
    baseline: number | null,
    samples: { legacy: number; candidate: number },
    enough: boolean,
    note?: string,
    belowFloor = false,
  ): RuleEvidence | null => {
    if (threshold === null) return null
    const base = {
      rule: `${kind}.${metric}`,
      metric,
      threshold: threshold.source,
      samples,
      window,
      dryRun: dry.has(metric),
    }
    const extra = note === undefined ? {} : { note }
    // A relative rule needs a legacy baseline in the same window; without one it cannot judge.
    const noBaseline = threshold.relative && (baseline === null || baseline === 0)
    if (!enough || value === null || noBaseline) {
      return { ...base, ...extra, value, baseline, limit: null, result: 'inconclusive' }
    }
    if (belowFloor) {
      return { ...base, value, baseline, limit: null, result: 'inconclusive', judged: false, note: floorNote }
    }
    const limit = threshold.relative ? threshold.value * (baseline ?? 0) : threshold.value
    const holds = compare(value, threshold.op, limit)
    // A rollback trigger fails when its condition holds; a promote rule fails when it does not.
    const result: RuleResult = kind === 'rollback' ? (holds ? 'fail' : 'pass') : holds ? 'pass' : 'fail'
    return { ...base, ...extra, value, baseline: threshold.relative ? baseline : null, limit, result }
  }

  const candRate = successRate(candidate)
  const legRate = successRate(legacy)
  const enoughCandidate = candidate.requests >= min
  const enoughBoth = enoughCandidate && legacy.requests >= min
  const rb = analysis.rollback
  const pr = analysis.promote
  // Sub-millisecond differences (loopback, caches) make ratios meaningless: relative latency rules
  // wait until at least one arm's p95 reaches the floor.
  const floor = analysis.latencyFloor
  const belowFloor =
    legacy.latency.count > 0 &&
    candidate.latency.count > 0 &&
    legacy.latency.p95 < floor &&
    candidate.latency.p95 < floor
  const floorNote =
    `not judged: both arms' p95 (legacy ${fmt(legacy.latency.p95)} ms, candidate` +
    ` ${fmt(candidate.latency.p95)} ms) are below analysis.latencyFloor ${fmt(floor)} ms`
  const rules = [
    rule(
      'rollback',
      'errorRate',
      rb.errorRate,
      candidate.requests > 0 ? candidate.errors / candidate.requests : null,
      null,
      armSamples,
      enoughCandidate,
    ),
    rule(
      'rollback',
      'latencyP95',
      rb.latencyP95,
      candidate.latency.count > 0 ? candidate.latency.p95 : null,
      legacy.latency.count > 0 ? legacy.latency.p95 : null,
      armSamples,
      rb.latencyP95?.relative ? enoughBoth : enoughCandidate,
      'milliseconds',
      rb.latencyP95?.relative === true && belowFloor,
    ),
    rule(
      'rollback',
      'throughput',
      rb.throughput,
      candRate,
      legRate,
      armSamples,
      rb.throughput?.relative ? enoughBoth : enoughCandidate,
      'successful responses per assigned request',
    ),
    rule('rollback', 'matchRate', rb.matchRate, matchRate, null, compareSamples, compared >= min),
    rule(
      'rollback',
      'healthFailures',
      rb.healthFailures,
      input.healthFailures,
      null,
      { legacy: 0, candidate: input.healthFailures },
      true,
      'consecutive failed health checks of the candidate',
    ),
    rule('promote', 'matchRate', pr.matchRate, matchRate, null, compareSamples, compared >= min),
    rule(
      'promote',
      'throughputChange',
      pr.throughputChange,
      candRate !== null && legRate ? candRate / legRate - 1 : null,
      legRate,
      armSamples,
      enoughBoth,
    ),
    rule(
      'promote',
      'latencyChange',
      pr.latencyChange,
      candidate.latency.count > 0 && legacy.latency.mean > 0 ? candidate.latency.mean / legacy.latency.mean - 1 : null,
      legacy.latency.count > 0 ? legacy.latency.mean : null,
      armSamples,
      enoughBoth,
      'relative change of mean latency',
      belowFloor,
    ),
  ].filter((r): r is RuleEvidence => r !== null)
  const custom = customRules(input.custom ?? [], window, dry, armSamples)
  rules.push(...custom)

  const fired = rules.filter((r) => r.rule.startsWith('rollback.') && r.result === 'fail' && !r.dryRun)
  // A promote rule without data does not block promotion (e.g. no comparisons when shadow is off),
  // but one that is measured and not met does.
  const promoteOk = !rules.some((r) => r.rule.startsWith('promote.') && r.result === 'fail' && !r.dryRun)
  const samples = { ...armSamples, minSamples: min }
  const common = { system: input.system, window, rules, promoteOk, samples }

  if (fired.length > 0) {
    return {
      ...common,
      verdict: 'fail',
      judge: analysis.judge,
      score: null,
      reason: fired.map(describeRule).join('; '),
    }
  }
  if (!enoughCandidate) {
    return {
      ...common,
      verdict: 'inconclusive',
      judge: analysis.judge,
      score: null,
      reason: `inconclusive: ${candidate.requests} of ${min} samples`,
    }
  }
  // A custom metric without a value is never a pass: the rollout holds until it has one.
  const blind = custom.filter((r) => r.result === 'inconclusive' && !r.dryRun)
  if (blind.length > 0) {
    const why = blind.map((r) => `${r.metric}: ${r.note ?? 'no value'}`).join('; ')
    return {
      ...common,
      verdict: 'inconclusive',
      judge: analysis.judge,
      score: null,
      reason: `inconclusive: custom metric without a value (${why})`,
    }
  }
  if (analysis.judge === 'mann-whitney') return judged(input, common)
  return {
    ...common,
    verdict: 'pass',
    judge: 'threshold',
    score: null,
    reason: 'every rollback trigger is below its threshold',
  }
}

function judged(input: AnalysisInput, common: Omit<Verdict, 'verdict' | 'judge' | 'score' | 'reason'>): Verdict {
  const mw = input.analysis.mannWhitney
  const { legacy, candidate } = input.arms
  const critical = new Set(mw.critical)
  const dry = new Set(input.analysis.dryRun)
  const metrics: JudgeMetric[] = [
    {
      name: 'latency',
      control: legacy.samples,
      experiment: candidate.samples,
      direction: 'increase',
      critical: critical.has('latency'),
    },
    {
      name: 'errorRate',
      control: errorIndicators(legacy.requests, legacy.errors),
      experiment: errorIndicators(candidate.requests, candidate.errors),
      direction: 'increase',
      critical: critical.has('errorRate'),
    },
  ]
  // Dry-run metrics are classified and recorded but left out of the score.
  const judgement = judge(
    metrics.filter((m) => !dry.has(m.name)),
    mw,
  )
  const all = metrics.map((m) => classify(m, mw))
  const rules: RuleEvidence[] = all.map((m) => ({
    rule: `judge.${m.name}`,
    metric: m.name,
    value: m.ratio,
    baseline: null,
    limit: mw.allowedIncrease,
    threshold: `Mann-Whitney p < ${+(1 - mw.confidence).toFixed(4)} and mean ratio > ${mw.allowedIncrease}`,
    samples: m.samples,
    window: input.window,
    result: m.classification === 'NoData' ? 'inconclusive' : m.classification === 'Pass' ? 'pass' : 'fail',
    dryRun: dry.has(m.name),
    note: m.pValue === null ? 'no data' : `${m.classification}, p=${m.pValue.toPrecision(3)}`,
  }))
  const base = {
    ...common,
    rules: [...common.rules, ...rules],
    judge: 'mann-whitney' as const,
    score: judgement.score,
    judgement,
  }
  const failing = judgement.metrics
    .filter((m) => m.classification === 'High' || m.classification === 'Low')
    .map((m) => `${m.name} ${m.classification}`)
  // No data on either arm (e.g. legacy gets no traffic at weight 100) cannot judge; it does not block.
  if (judgement.result === 'nodata')
    return { ...base, verdict: 'pass', reason: 'judge had no samples to compare; thresholds hold' }
  const score = (judgement.score ?? 0).toFixed(0)
  if (judgement.result === 'pass')
    return { ...base, verdict: 'pass', reason: `judge score ${score} (pass >= ${mw.pass})` }
  if (judgement.result === 'marginal')
    return { ...base, verdict: 'inconclusive', reason: `judge score ${score} is marginal: ${failing.join(', ')}` }
  return { ...base, verdict: 'fail', reason: `judge score ${score} < ${mw.marginal}: ${failing.join(', ')}` }
}

const fmt = (n: number | null): string => (n === null ? 'n/a' : Number.isInteger(n) ? String(n) : n.toPrecision(3))

export function describeRule(r: RuleEvidence): string {
  const base = r.baseline === null ? '' : ` (legacy ${fmt(r.baseline)}, limit ${fmt(r.limit)})`
  return `${r.metric} ${fmt(r.value)} ${r.threshold}${base}`
}
