// Rollout hooks and notifications (SPEC 5): a webhook POST with JSON (including a Slack-compatible
// `text`) or a shell command (JSON on stdin, TANDEM_* env vars). Confirm hooks gate; others inform.
import { HOOK_KINDS, type HookKind } from '../domain/hooks.js'
import { spawn } from 'node:child_process'
import { request } from 'undici'
import type { Config, HookConfig, SystemConfig } from '../config/schema.js'
import { redactSecrets, redactWebhook } from '../redact.js'

export { HOOK_KINDS, type HookKind }

const CONFIG_KEY: Record<HookKind, keyof SystemConfig['hooks']> = {
  'confirm-rollout': 'confirmRollout',
  'pre-rollout': 'preRollout',
  step: 'step',
  'confirm-promotion': 'confirmPromotion',
  promoted: 'promoted',
  rollback: 'rollback',
  emergency: 'emergency',
  event: 'event',
}

export interface HookPayload {
  readonly kind: HookKind
  readonly system: string
  readonly stage: string
  readonly weight: number
  readonly stepIndex: number
  readonly reason: string
  /** Slack-compatible one-line summary. */
  readonly text: string
  readonly at: string
  readonly [key: string]: unknown
}

export interface HookOutcome {
  readonly ok: boolean
  readonly detail: string
}

type Runnable = Pick<HookConfig, 'webhook' | 'command' | 'headers' | 'timeout'>

/**
 * Run one hook; never throws: a failure is an outcome (a confirm hook then holds the step). The detail
 * goes into decisions, status and logs, so it names a webhook by its origin and masks URL secrets.
 */
export async function runHook(hook: Runnable, payload: HookPayload): Promise<HookOutcome> {
  try {
    const outcome =
      hook.webhook !== undefined
        ? await postWebhook(hook.webhook, hook, payload)
        : await runCommand(hook.command ?? 'false', hook, payload)
    return { ok: outcome.ok, detail: redactSecrets(outcome.detail) }
  } catch (error) {
    const where = hook.webhook !== undefined ? `POST ${redactWebhook(hook.webhook)} failed: ` : ''
    return { ok: false, detail: redactSecrets(`${where}${(error as Error).message}`) }
  }
}

async function postWebhook(url: string, hook: Runnable, payload: HookPayload): Promise<HookOutcome> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...hook.headers },
    body: JSON.stringify(payload),
    headersTimeout: hook.timeout,
    bodyTimeout: hook.timeout,
  })
  const body = (await res.body.text()).slice(0, 200)
  const ok = res.statusCode >= 200 && res.statusCode < 300
  return { ok, detail: `POST ${redactWebhook(url)} answered ${res.statusCode}${body === '' ? '' : `: ${body}`}` }
}

function runCommand(command: string, hook: Runnable, payload: HookPayload): Promise<HookOutcome> {
  return new Promise((resolve) => {
    const child = spawn(command, {
      shell: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: hook.timeout,
      env: {
        ...process.env,
        TANDEM_HOOK: payload.kind,
        TANDEM_SYSTEM: payload.system,
        TANDEM_STAGE: payload.stage,
        TANDEM_WEIGHT: String(payload.weight),
        TANDEM_STEP: String(payload.stepIndex),
        TANDEM_REASON: payload.reason,
      },
    })
    let output = ''
    const keep = (chunk: Buffer) => {
      if (output.length < 2000) output += chunk.toString()
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    // A hook that does not read its stdin must not fail the write.
    child.stdin.on('error', () => {})
    child.stdin.end(JSON.stringify(payload))
    child.on('error', (error) => resolve({ ok: false, detail: error.message }))
    child.on('close', (code, signal) => {
      const last = output.trim().split('\n').pop() ?? ''
      const status = signal !== null ? `killed by ${signal}` : `exited ${code}`
      resolve({ ok: code === 0, detail: `\`${command}\` ${status}${last === '' ? '' : `: ${last}`}` })
    })
  })
}

/** The hooks of `kind` for a system, plus the program-wide notifications subscribed to it. */
function targets(config: Config, system: SystemConfig, kind: HookKind): Runnable[] {
  const own = system.hooks[CONFIG_KEY[kind]] ?? []
  const subscribed = config.notifications.filter((n) => n.on.includes(kind))
  return [...own, ...subscribed]
}

/** Confirm hooks: every one must accept. No configured hook means confirmed. */
export async function gate(
  config: Config,
  system: SystemConfig,
  kind: HookKind,
  payload: HookPayload,
): Promise<HookOutcome> {
  for (const hook of system.hooks[CONFIG_KEY[kind]] ?? []) {
    const outcome = await runHook(hook, payload)
    if (!outcome.ok) return outcome
  }
  // Subscribers of a confirm kind are told it is being asked, but do not vote.
  for (const n of config.notifications.filter((n) => n.on.includes(kind))) void runHook(n, payload)
  return { ok: true, detail: 'confirmed' }
}

/** Informative hooks: fire and forget, every `event` hook too; failures are returned for logging. */
export function notify(
  config: Config,
  system: SystemConfig,
  kind: HookKind,
  payload: HookPayload,
): Promise<HookOutcome[]> {
  // A notification subscribed to both `kind` and `event` is told once, not twice.
  const list =
    kind === 'event'
      ? targets(config, system, 'event')
      : [...new Set([...targets(config, system, kind), ...targets(config, system, 'event')])]
  return Promise.all(list.map((hook) => runHook(hook, { ...payload, kind })))
}

/** Program-wide notifications only (a manual `tandem program halt` or `resume` concerns no one system). */
export function notifyProgram(config: Config, kind: HookKind, payload: HookPayload): Promise<HookOutcome[]> {
  const kinds = kind === 'event' ? ['event'] : [kind, 'event']
  const list = config.notifications.filter((n) => n.on.some((k) => kinds.includes(k)))
  return Promise.all(list.map((hook) => runHook(hook, { ...payload, kind })))
}
