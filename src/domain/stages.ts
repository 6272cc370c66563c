// The rollout vocabulary every layer shares: the two arms, the stages of a system and the sets of
// stages the rules talk about. Plain values only, so the dashboard (a browser bundle) imports it too.

/** The two implementations of a system: the one being replaced and its replacement. */
export const ARMS = ['legacy', 'candidate'] as const
export type Arm = (typeof ARMS)[number]

/** Every stage a system's rollout can be in (SPEC 5), in the order of a rollout (charts, reports, `tandem_stage`). */
export const STAGES = ['pending', 'shadow', 'canary', 'promoted', 'completed', 'rolled-back'] as const
export type Stage = (typeof STAGES)[number]

/** A rollout is under way: the controller acts on it, and it can be paused or rolled back. */
export const ACTIVE_STAGES: readonly Stage[] = ['shadow', 'canary', 'promoted']

/**
 * The candidate is on trial: traffic is mirrored and compared, the rollout advances step by step or is
 * promoted; a system here counts against its wave's `maxConcurrent`.
 */
export const TRIAL_STAGES: readonly Stage[] = ['shadow', 'canary']

/** The candidate took over; the system no longer holds its wave back. */
export const DONE_STAGES: readonly Stage[] = ['promoted', 'completed']

/** No rollout under way: legacy serves everything. */
export const RESTING_STAGES: readonly Stage[] = ['pending', 'rolled-back']

export const isActive = (stage: Stage): boolean => ACTIVE_STAGES.includes(stage)

/** Does this stage mirror traffic to the arm not serving the request? */
export function mirrors(stage: Stage): boolean {
  return stage === 'shadow' || stage === 'canary'
}
