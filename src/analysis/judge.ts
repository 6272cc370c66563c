// Kayenta-style statistical judge (SPEC 6): each metric is classified High/Low/Pass by a Mann-Whitney
// test of candidate vs legacy samples and a mean-ratio effect size; the score is the share of Pass.
import { mannWhitneyU, mean } from './mann-whitney.js'

export interface JudgeMetric {
  readonly name: string
  /** Legacy (control) samples. */
  readonly control: readonly number[]
  /** Candidate (experiment) samples. */
  readonly experiment: readonly number[]
  /** Which direction hurts; for latency and errors, an increase. */
  readonly direction: 'increase' | 'decrease' | 'either'
  readonly critical: boolean
}

export interface JudgeOptions {
  readonly confidence: number
  /** A significant increase counts only when mean ratio exceeds this (1.0: any increase). */
  readonly allowedIncrease: number
  readonly pass: number
  readonly marginal: number
}

export type Classification = 'High' | 'Low' | 'Pass' | 'NoData'

export interface MetricJudgement {
  readonly name: string
  readonly classification: Classification
  readonly pValue: number | null
  readonly u: number | null
  /** mean(candidate) / mean(legacy). */
  readonly ratio: number | null
  readonly samples: { readonly legacy: number; readonly candidate: number }
  readonly critical: boolean
}

export interface JudgeResult {
  readonly score: number | null
  /** pass >= options.pass; marginal >= options.marginal; fail below, or when a critical metric fails. */
  readonly result: 'pass' | 'marginal' | 'fail' | 'nodata'
  readonly metrics: readonly MetricJudgement[]
}

export function classify(metric: JudgeMetric, options: JudgeOptions): MetricJudgement {
  const samples = { legacy: metric.control.length, candidate: metric.experiment.length }
  if (samples.legacy === 0 || samples.candidate === 0) {
    return {
      name: metric.name,
      classification: 'NoData',
      pValue: null,
      u: null,
      ratio: null,
      samples,
      critical: metric.critical,
    }
  }
  const test = mannWhitneyU(metric.experiment, metric.control)
  const control = mean(metric.control)
  const experiment = mean(metric.experiment)
  const ratio = control === 0 ? (experiment === 0 ? 1 : Number.POSITIVE_INFINITY) : experiment / control
  const significant = test.pValue < 1 - options.confidence
  let classification: Classification = 'Pass'
  if (significant && experiment > control && ratio > options.allowedIncrease) classification = 'High'
  else if (significant && experiment < control) classification = 'Low'
  // Only the harmful direction fails: a faster candidate is not a regression.
  if (classification === 'Low' && metric.direction === 'increase') classification = 'Pass'
  if (classification === 'High' && metric.direction === 'decrease') classification = 'Pass'
  return {
    name: metric.name,
    classification,
    pValue: test.pValue,
    u: test.u,
    ratio,
    samples,
    critical: metric.critical,
  }
}

export function judge(metrics: readonly JudgeMetric[], options: JudgeOptions): JudgeResult {
  const judged = metrics.map((m) => classify(m, options))
  const classified = judged.filter((m) => m.classification !== 'NoData')
  if (classified.length === 0) return { score: null, result: 'nodata', metrics: judged }
  const passed = classified.filter((m) => m.classification === 'Pass').length
  const criticalFailed = classified.some((m) => m.critical && m.classification !== 'Pass')
  const score = criticalFailed ? 0 : (100 * passed) / classified.length
  const result = score >= options.pass ? 'pass' : score >= options.marginal ? 'marginal' : 'fail'
  return { score, result, metrics: judged }
}

/** Per-request 0/1 error indicators, so error counts can be judged like any other sample. */
export function errorIndicators(requests: number, errors: number): number[] {
  const out = new Array<number>(Math.max(0, requests)).fill(0)
  for (let i = 0; i < Math.min(errors, requests); i++) out[i] = 1
  return out
}
