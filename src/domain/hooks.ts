// The hook kinds of SPEC 5: when the controller calls a hook, and what a notification may subscribe to.
export const HOOK_KINDS = [
  'confirm-rollout',
  'pre-rollout',
  'step',
  'confirm-promotion',
  'promoted',
  'rollback',
  'emergency',
  'event',
] as const

export type HookKind = (typeof HOOK_KINDS)[number]
