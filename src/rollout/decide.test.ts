// The rules of SPEC 5 as properties of the pure decide(), over generated states, steps and verdicts,
// plus worked walks of the canary, blue-green and direct strategies on a fake clock (no real time).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Verdict, VerdictResult } from '../analysis/verdict.js'
import type { RolloutStep } from '../config/schema.js'
import { initialState, type SystemState } from '../store/system-state.js'
import { decide, type ControllerAction, type DecideContext, type HoldKind } from './decide.js'
import { placementOf, stepDuration } from './steps.js'

const T0 = Date.UTC(2026, 0, 1)

function verdictOf(verdict: VerdictResult, promoteOk = true): Verdict {
  const window = { start: T0, end: T0 + 10_000 }
  const samples = { legacy: 60, candidate: 60 }
  const unmet = { rule: 'promote.matchRate', metric: 'matchRate', value: 0.5, baseline: null, limit: 0.8 }
  const rule = { ...unmet, threshold: '>= 0.8', samples, window, result: 'fail' as const, dryRun: false }
  const rules = promoteOk ? [] : [rule]
  const reason = `${verdict} verdict`
  const counted = { ...samples, minSamples: 50 }
  return { system: 's', window, verdict, judge: 'threshold', score: null, reason, rules, promoteOk, samples: counted }
}

const ctxOf = (over: Partial<DecideContext> = {}): DecideContext => ({
  consecutiveFailures: 2,
  failing: 0,
  halt: null,
  ...over,
})

/** The state of a system at `index` of `steps`, the step begun at `startedAt`. */
function stateAt(steps: readonly RolloutStep[], i: number, at: number, over: Partial<SystemState> = {}): SystemState {
  const placement = placementOf(steps[i]!)
  const run = { stepIndex: i, stepStartedAt: at, startedAt: T0, version: i + 1 }
  return { ...initialState('s', T0), ...placement, ...run, ...over }
}

// --- generators ---------------------------------------------------------------------------------------
const durationArb = fc.integer({ min: 0, max: 3_600_000 })
const stepArb: fc.Arbitrary<RolloutStep> = fc.oneof(
  fc.record({ kind: fc.constant('shadow' as const), durationMs: durationArb, confirm: fc.boolean() }),
  fc.record({
    kind: fc.constant('weight' as const),
    weight: fc.integer({ min: 0, max: 100 }),
    pauseMs: durationArb,
    confirm: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('switch' as const), pauseMs: durationArb, confirm: fc.boolean() }),
)
const stepsArb = fc.array(stepArb, { minLength: 1, maxLength: 6 })
/** Steps as a strategy writes them: shadow first, rising weights, a blue-green switch last. */
const risingStepsArb: fc.Arbitrary<RolloutStep[]> = fc
  .tuple(fc.boolean(), fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 5 }), fc.boolean(), durationArb)
  .map(([shadow, weights, sw, pause]) => [
    ...(shadow ? [{ kind: 'shadow' as const, durationMs: pause, confirm: false }] : []),
    ...[...weights]
      .sort((a, b) => a - b)
      .map((weight) => ({ kind: 'weight' as const, weight, pauseMs: pause, confirm: false })),
    ...(sw || (!shadow && weights.length === 0) ? [{ kind: 'switch' as const, pauseMs: pause, confirm: false }] : []),
  ])
const resultArb = fc.constantFrom<VerdictResult>('pass', 'fail', 'inconclusive')
const verdictArb = fc.tuple(resultArb, fc.boolean()).map(([v, ok]) => verdictOf(v, ok))
const PROMOTED_STATE = { stage: 'promoted', weight: 100, activeArm: 'candidate' } as const
const HOLD_KINDS: HoldKind[] = ['inconclusive', 'failing', 'hook', 'promote-rule', 'confirm', 'halted']
/** A system in an active stage at some step of its steps, at some time after the step began. */
const situationArb = stepsArb.chain((steps) =>
  fc.record({
    steps: fc.constant(steps),
    state: fc
      .record({ index: fc.nat(steps.length - 1), promoted: fc.boolean(), paused: fc.boolean() })
      .map(({ index, promoted, paused }) =>
        stateAt(steps, index, T0, promoted ? { ...PROMOTED_STATE, paused } : { paused }),
      ),
    verdict: verdictArb,
    elapsed: fc.integer({ min: 0, max: 7_200_000 }),
    ctx: fc.record({
      consecutiveFailures: fc.integer({ min: 1, max: 5 }),
      failing: fc.integer({ min: 0, max: 6 }),
      halt: fc.option(fc.constant('3 systems of wave pilot rolled back'), { nil: null }),
      lastHold: fc.option(fc.constantFrom(...HOLD_KINDS), { nil: null }),
    }),
  }),
)

describe('decide: properties', () => {
  it('an inconclusive verdict never rolls back and never moves', () => {
    fc.assert(
      fc.property(situationArb, ({ steps, state, elapsed, ctx }) => {
        const action = decide(state, verdictOf('inconclusive'), steps, T0 + elapsed, ctx)
        expect(action.type).toBe('hold')
      }),
    )
  })

  it('a failing verdict rolls back in any active stage (paused, halted, at a confirm step) once enough failed', () => {
    fc.assert(
      fc.property(situationArb, ({ steps, state, elapsed, ctx }) => {
        const action = decide(state, verdictOf('fail'), steps, T0 + elapsed, ctx)
        expect(action.type).toBe(ctx.failing >= ctx.consecutiveFailures ? 'rollback' : 'hold')
        if (action.type === 'hold') expect(action.kind).toBe('failing')
      }),
    )
  })

  it('a run of verdicts rolls back exactly at the consecutiveFailures-th failure in a row', () => {
    const runArb = fc.record({
      needed: fc.integer({ min: 1, max: 5 }),
      verdicts: fc.array(resultArb, { maxLength: 30 }),
    })
    fc.assert(
      fc.property(runArb, ({ needed, verdicts }) => {
        // A long pause and a confirm step: passes never move the system, so only failures change anything.
        const steps: RolloutStep[] = [
          { kind: 'weight', weight: 10, pauseMs: 3_600_000, confirm: true },
          { kind: 'weight', weight: 100, pauseMs: 0, confirm: false },
        ]
        const state = stateAt(steps, 0, T0)
        let inARow = 0
        for (const [i, v] of verdicts.entries()) {
          inARow = v === 'fail' ? inARow + 1 : 0
          const ctx = ctxOf({ consecutiveFailures: needed, failing: inARow })
          const action = decide(state, verdictOf(v), steps, T0 + (i + 1) * 10_000, ctx)
          expect(action.type === 'rollback').toBe(inARow === needed)
          if (action.type === 'rollback') return
        }
      }),
    )
  })

  it('raising the step never lowers the weight', () => {
    fc.assert(
      fc.property(risingStepsArb, fc.nat(), (steps, at) => {
        const index = at % steps.length
        const state = stateAt(steps, index, T0)
        const action = decide(state, verdictOf('pass'), steps, T0 + 3_600_000, ctxOf())
        if (action.type !== 'move') return
        expect(action.change.weight ?? state.weight).toBeGreaterThanOrEqual(state.weight)
        if (action.decision.action === 'advance') expect(action.change.stepIndex).toBe(index + 1)
      }),
    )
  })

  it('nothing moves while the program is halted or the system paused', () => {
    fc.assert(
      fc.property(situationArb, ({ steps, state, verdict, elapsed, ctx }) => {
        fc.pre(ctx.halt !== null || state.paused)
        expect(decide(state, verdict, steps, T0 + elapsed, ctx).type).not.toBe('move')
      }),
    )
  })

  it('never advances before the step’s pause (or shadow duration) has elapsed, and does once it has', () => {
    // Every other reason to hold removed: a passing verdict, no confirm step, not paused, not halted.
    const openSteps = risingStepsArb.map((steps) => steps.map((s) => ({ ...s, confirm: false })))
    fc.assert(
      fc.property(openSteps, fc.nat(), fc.integer({ min: -1500, max: 1500 }), (steps, at, offset) => {
        const state = stateAt(steps, at % steps.length, T0)
        const duration = stepDuration(steps[state.stepIndex]!)
        const elapsed = Math.max(0, duration + offset)
        const action = decide(state, verdictOf('pass'), steps, T0 + elapsed, ctxOf())
        expect(action.type).toBe(elapsed >= duration ? 'move' : 'hold')
      }),
    )
    fc.assert(
      fc.property(situationArb, ({ steps, state, verdict, elapsed, ctx }) => {
        const action = decide(state, verdict, steps, T0 + elapsed, ctx)
        if (action.type === 'move') expect(elapsed).toBeGreaterThanOrEqual(stepDuration(steps[state.stepIndex]!))
      }),
    )
  })

  it('moves only on a passing verdict, and records a hold only when a new kind of hold begins', () => {
    fc.assert(
      fc.property(situationArb, ({ steps, state, verdict, elapsed, ctx }) => {
        const action = decide(state, verdict, steps, T0 + elapsed, ctx)
        if (action.type === 'move') expect(verdict.verdict).toBe('pass')
        if (action.type === 'hold') expect(action.record).toBe(action.kind !== null && action.kind !== ctx.lastHold)
      }),
    )
  })

  it('a passing promoted system is held by nothing; a promotion needs the promote rules and the confirm hook', () => {
    fc.assert(
      fc.property(situationArb, ({ steps, state, verdict, elapsed, ctx }) => {
        const action = decide(state, verdict, steps, T0 + elapsed, ctx)
        if (state.stage === 'promoted' && verdict.verdict !== 'fail') {
          expect(action).toMatchObject({ type: 'hold', reason: null })
        }
        if (action.type === 'move' && action.decision.action === 'promote') {
          expect(state.stepIndex).toBe(steps.length - 1)
          expect(verdict.promoteOk).toBe(true)
          expect(action.gates).toEqual(['confirm-promotion'])
          expect(action.change).toMatchObject({ stage: 'promoted', weight: 100, activeArm: 'candidate' })
        }
      }),
    )
  })
})

/** Walk a system through its steps on a fake clock with always-passing verdicts; every move is applied. */
type Move = { at: number; action: ControllerAction }

function walk(steps: RolloutStep[], intervalMs: number, maxTicks = 1000): Move[] {
  const clock = { now: T0 }
  let state = stateAt(steps, 0, clock.now)
  const moves: Move[] = []
  for (let i = 0; i < maxTicks && state.stage !== 'promoted'; i++) {
    clock.now += intervalMs
    const action = decide(state, verdictOf('pass'), steps, clock.now, ctxOf())
    if (action.type === 'move') {
      moves.push({ at: clock.now - T0, action })
      state = { ...state, ...action.change, version: state.version + 1 }
    }
  }
  return moves
}

describe('decide: worked examples', () => {
  it('walks the default canary steps, leaving each step once its pause elapsed', () => {
    const steps: RolloutStep[] = [
      { kind: 'shadow', durationMs: 600_000, confirm: false },
      { kind: 'weight', weight: 5, pauseMs: 300_000, confirm: false },
      { kind: 'weight', weight: 25, pauseMs: 600_000, confirm: false },
      { kind: 'weight', weight: 50, pauseMs: 600_000, confirm: false },
      { kind: 'weight', weight: 100, pauseMs: 0, confirm: false },
    ]
    const moves = walk(steps, 10_000)
    const step = (a: ControllerAction) => (a.type === 'move' ? [a.decision.action, a.change.weight] : [a.type])
    const summary = moves.map(({ at, action }) => [at, ...step(action)])
    expect(summary).toEqual([
      [600_000, 'advance', 5],
      [900_000, 'advance', 25],
      [1_500_000, 'advance', 50],
      [2_100_000, 'advance', 100],
      [2_110_000, 'promote', 100],
    ])
    // Only the first step that sends users to the candidate asks the confirm-rollout and pre-rollout hooks.
    expect(moves.map((m) => (m.action.type === 'move' ? m.action.gates : []))).toEqual([
      ['confirm-rollout', 'pre-rollout'],
      [],
      [],
      [],
      ['confirm-promotion'],
    ])
  })

  it('blue-green: shadow, then every user to the candidate colour at once, then promotion', () => {
    const steps: RolloutStep[] = [
      { kind: 'shadow', durationMs: 600_000, confirm: false },
      { kind: 'switch', pauseMs: 600_000, confirm: false },
    ]
    const moves = walk(steps, 60_000)
    expect(moves[0]).toMatchObject({
      at: 600_000,
      action: {
        change: { stage: 'canary', weight: 100, activeArm: 'candidate' },
        gates: ['confirm-rollout', 'pre-rollout'],
      },
    })
    expect(moves[1]).toMatchObject({ at: 1_200_000, action: { decision: { action: 'promote' } } })
  })

  it('direct: one step of weight 100 promotes at the first passing interval', () => {
    const moves = walk([{ kind: 'weight', weight: 100, pauseMs: 0, confirm: false }], 10_000)
    expect(moves).toHaveLength(1)
    expect(moves[0]).toMatchObject({ at: 10_000, action: { type: 'move', decision: { action: 'promote' } } })
  })

  it('says why it holds: time left, inconclusive, confirm, promote rule, paused, halted, failing', () => {
    const steps: RolloutStep[] = [
      { kind: 'weight', weight: 10, pauseMs: 60_000, confirm: true },
      { kind: 'weight', weight: 100, pauseMs: 0, confirm: false },
    ]
    const first = stateAt(steps, 0, T0)
    const last = stateAt(steps, 1, T0)
    const reason = (a: ControllerAction) => (a.type === 'hold' ? [a.reason, a.kind] : a.type)
    const pass = verdictOf('pass')
    const left = decide(first, pass, steps, T0 + 15_500, ctxOf())
    expect(reason(left)).toEqual(['step 1 of 2 (weight 10%): 45s left in this step', null])
    const unsure = decide(first, verdictOf('inconclusive'), steps, T0 + 60_000, ctxOf())
    expect(reason(unsure)).toEqual(['inconclusive verdict', 'inconclusive'])
    const confirm = decide(first, pass, steps, T0 + 60_000, ctxOf())
    expect(reason(confirm)).toEqual(['step 1 of 2 (weight 10%) waits for `tandem advance`', 'confirm'])
    expect(reason(decide(last, verdictOf('pass', false), steps, T0, ctxOf()))).toEqual([
      'promote rule not met: matchRate 0.500 not >= 0.8',
      'promote-rule',
    ])
    const paused = decide({ ...last, paused: true }, pass, steps, T0, ctxOf({ pausedBy: 'otto' }))
    expect(reason(paused)).toEqual(['paused by otto', null])
    expect(reason(decide(last, verdictOf('pass'), steps, T0, ctxOf({ halt: 'halted by otto: drill' })))).toEqual([
      'program halted: halted by otto: drill; run `tandem program resume`',
      'halted',
    ])
    const fail = verdictOf('fail')
    const failing = decide(last, fail, steps, T0, ctxOf({ failing: 1 }))
    expect(reason(failing)).toEqual(['failing verdict 1 of 2: fail verdict', 'failing'])
    expect(decide({ ...last, paused: true }, fail, steps, T0, ctxOf({ failing: 2, halt: 'drill' }))).toMatchObject({
      type: 'rollback',
      decision: { action: 'rollback', actor: 'controller', reason: 'fail verdict' },
    })
    expect(decide(last, fail, steps, T0, ctxOf({ failing: 2 }))).toMatchObject({
      decision: { evidence: { verdict: 'fail', reason: 'fail verdict', rules: [] } },
    })
  })

  it('holds at a step index outside the configured steps (the config lost steps on reload)', () => {
    const steps: RolloutStep[] = [{ kind: 'weight', weight: 100, pauseMs: 0, confirm: false }]
    const state = { ...stateAt(steps, 0, T0), stepIndex: 3 }
    const why = expect.stringContaining('step 3 is not in the configured steps')
    expect(decide(state, verdictOf('pass'), steps, T0, ctxOf())).toMatchObject({ type: 'hold', reason: why })
  })
})
