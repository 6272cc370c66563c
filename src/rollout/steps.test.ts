import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import { reportStamp } from './failure-report.js'
import { ACTION_STAGES, describeStep, placementOf, servesCandidate, stepDuration } from './steps.js'

const stepsOf = (yaml: string) =>
  parseConfig(`version: 1
systems:
  - name: a
    legacy: { url: http://127.0.0.1:1 }
    candidate: { url: http://127.0.0.1:2 }
    routes: [{ path: /** }]
    rollout: ${yaml}
`).systems[0]!.rollout.steps

describe('stage machine', () => {
  it('places canary steps, blue-green switches and shadow periods', () => {
    const steps = stepsOf('{ steps: [{shadow: 10m}, {weight: 5, pause: 5m}, {switch: true, pause: 1m}] }')
    expect(steps.map(placementOf)).toEqual([
      { stage: 'shadow', weight: 0, activeArm: 'legacy' },
      { stage: 'canary', weight: 5, activeArm: 'legacy' },
      { stage: 'canary', weight: 100, activeArm: 'candidate' },
    ])
    expect(steps.map(stepDuration)).toEqual([600_000, 300_000, 60_000])
    expect(steps.map((s) => servesCandidate(placementOf(s)))).toEqual([false, true, true])
    expect(describeStep(steps, 1)).toBe('step 2 of 3 (weight 5%)')
  })

  it('uses the strategy defaults of SPEC 2', () => {
    expect(stepsOf('{ strategy: canary }').map((s) => placementOf(s).weight)).toEqual([0, 5, 25, 50, 100])
    expect(stepsOf('{ strategy: blue-green }').map((s) => placementOf(s).activeArm)).toEqual(['legacy', 'candidate'])
    expect(stepsOf('{ strategy: direct }').map(placementOf)).toEqual([
      { stage: 'canary', weight: 100, activeArm: 'legacy' },
    ])
  })

  it('allows rollback from every active stage and retry only after one', () => {
    expect(ACTION_STAGES.rollback).toEqual(['shadow', 'canary', 'promoted'])
    expect(ACTION_STAGES.retry).toEqual(['rolled-back'])
    expect(ACTION_STAGES.finalize).toEqual(['promoted'])
  })
})

describe('failure report names', () => {
  it('stamps YYYYmmdd_HHMMSS in UTC', () => {
    expect(reportStamp(Date.UTC(2024, 0, 31, 14, 25, 1))).toBe('20240131_142501')
  })
})
