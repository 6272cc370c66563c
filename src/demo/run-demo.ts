// `tandem demo`: the whole lifecycle on a laptop in under two minutes. Two bundled services, a full
// instance (gateway, comparison, controller, embedded store), synthetic traffic, an injected fault,
// the automatic rollback, a retry and the promotion, narrated as they happen.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import pino from 'pino'
import type { RuleEvidence, Verdict } from '../analysis/verdict.js'
import { readDiffReport } from '../compare/diff-report.js'
import { createInstance, type Instance } from '../instance/create-instance.js'
import { RolloutController } from '../rollout/controller.js'
import { listDecisions, type Decision } from '../store/system-state.js'
import { describeDecision, describeVerdict, narrator } from './narrate.js'
import { startSampleServices } from './sample-services.js'
import { startTraffic } from './traffic.js'

export const DEMO_SYSTEM = 'todo-api'

export interface DemoOptions {
  /** Keep the store, config and failure report here instead of a temporary directory. */
  readonly dir?: string
  /** Give up (and say so) after this long. */
  readonly deadlineMs?: number
  readonly write?: (s: string) => void
}

export interface DemoResult {
  readonly ok: boolean
  readonly durationMs: number
  readonly requests: number
  readonly finalStage: string
  readonly failureReport: string | null
  readonly differences: Array<{ route: string; path: string; kind: string; count: number }>
  readonly decisions: Array<Pick<Decision, 'seq' | 'action' | 'actor' | 'fromStage' | 'toStage' | 'weight' | 'reason'>>
}

/** The time of day of an epoch-millisecond instant, HH:MM:SS in UTC. */
const clock = (at: number): string => new Date(at).toISOString().slice(11, 19)

function demoConfig(dir: string, legacy: string, rewrite: string): string {
  return `# Written by \`tandem demo\`: the schedule is accelerated (seconds instead of minutes).
version: 1
gateway: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
store: sqlite:${join(dir, 'tandem.db')}
systems:
  - name: ${DEMO_SYSTEM}
    category: api
    priority: P0
    legacy: { url: ${legacy} }
    candidate: { url: ${rewrite} }
    routes:
      - { path: /todos, methods: [GET] }
      - { path: /todos/:id, methods: [GET] }
    rollout:
      strategy: canary
      stickiness: header:x-user-id
      steps: [ {shadow: 5s}, {weight: 10, pause: 3s}, {weight: 50, pause: 4s}, {weight: 100, pause: 2s} ]
    analysis:
      interval: 1s
      minSamples: 20
      # Loopback latencies of a few ms are noisy on a busy laptop; the other rules keep their defaults.
      promote: { latencyChange: "<= 0.25" }
    health: { path: /health, interval: 1s }
`
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now()
  const say = narrator(options.write ?? ((s) => process.stdout.write(s)), started)
  const dir = options.dir !== undefined ? resolve(options.dir) : await mkdtemp(join(tmpdir(), 'tandem-demo-'))
  await mkdir(dir, { recursive: true })
  const services = await startSampleServices()
  const cleanup: Array<() => Promise<void>> = [() => services.legacy.close(), () => services.rewrite.close()]
  if (options.dir === undefined) cleanup.unshift(() => rm(dir, { recursive: true, force: true }))
  let instance: Instance | undefined
  try {
    say(`legacy todo API on ${services.legacy.url}, its rewrite on ${services.rewrite.url}`)
    const configFile = join(dir, 'tandem.yaml')
    await writeFile(configFile, demoConfig(dir, services.legacy.url, services.rewrite.url))
    const logger = pino({ level: 'silent' })
    instance = await createInstance({ configFile, logger, controller: { failuresDir: join(dir, 'failures') } })
    cleanup.unshift(() => instance!.close())
    const control = instance.controller!
    say(`tandem is up: gateway ${instance.gatewayUrl}, dashboard ${instance.adminUrl}`)
    const traffic = startTraffic(instance.gatewayUrl)
    cleanup.unshift(() => traffic.stop())
    say('synthetic traffic: 4 users reading todos through the gateway')

    const story = new Story(control, say)
    const deadline = options.deadlineMs ?? 110_000
    const ok = await story.play(async () => {
      await control.act(DEMO_SYSTEM, 'start', { actor: 'demo', reason: 'demo: start the rollout' })
      await story.until((d) => d.action === 'advance' && d.toStage === 'canary', deadline)
      await story.differences(instance!)
      await story.until((d) => d.action === 'advance' && d.weight === 50, deadline)
      await sleep(1500)
      say('FAULT INJECTED: the rewrite now answers 500 to 30% of its requests (connection pool exhausted)')
      services.switches.failRate = 0.3
      const report = story.nextReport(deadline)
      await story.until((d) => d.action === 'rollback', deadline)
      const file = await report
      say(`all traffic is back on legacy; failure report: ${file}`)
      await story.summariseReport(file)
      services.switches.failRate = 0
      say('the rewrite is fixed; an operator retries the rollout from its first step')
      await control.act(DEMO_SYSTEM, 'retry', { actor: 'demo', reason: 'demo: fault fixed, retry' })
      await story.until((d) => d.action === 'promote', deadline)
      say('PROMOTED: every user is on the rewrite; legacy stays warm until `tandem finalize`')
    }, deadline)

    const decisions = await listDecisions(instance.store, DEMO_SYSTEM)
    const state = await control.status(DEMO_SYSTEM)
    const result: DemoResult = {
      ok,
      durationMs: Date.now() - started,
      requests: traffic.sent(),
      finalStage: state.state.stage,
      failureReport: story.report,
      differences: story.found,
      decisions: decisions.map(({ seq, action, actor, fromStage, toStage, weight, reason }) => ({
        seq,
        action,
        actor,
        fromStage,
        toStage,
        weight,
        reason,
      })),
    }
    if (options.dir === undefined)
      say('(this ran in a temporary directory; `tandem demo --dir DIR` keeps the config, store and failure report)')
    say(
      ok
        ? `done in ${(result.durationMs / 1000).toFixed(0)}s, ${result.requests} requests, ${decisions.length}` +
            ` decisions in the audit trail`
        : 'the demo did not finish in time; see the decisions above',
    )
    return result
  } finally {
    for (const step of cleanup) await step().catch(() => {})
  }
}

/** Follows the controller's events, narrates them and lets the script wait for a decision. */
class Story {
  report: string | null = null
  found: DemoResult['differences'] = []
  readonly #waiters = new Set<{ match: (d: Decision) => boolean; resolve: () => void }>()
  readonly #reportWaiters = new Set<(file: string) => void>()

  constructor(
    readonly control: RolloutController,
    readonly say: (s: string) => void,
  ) {
    control.on('verdict', (_s, v: Verdict, state) => {
      const where = state.stage === 'canary' ? `canary ${state.weight}%` : state.stage
      say(`  verdict  ${where.padEnd(11)} ${describeVerdict(v)}`)
    })
    control.on('decision', (d) => {
      say(describeDecision(d))
      for (const w of [...this.#waiters]) {
        if (w.match(d)) {
          this.#waiters.delete(w)
          w.resolve()
        }
      }
    })
    control.on('report', (_s, file) => {
      this.report = file
      for (const w of this.#reportWaiters) w(file)
      this.#reportWaiters.clear()
    })
  }

  /** The next failure report the controller writes (it follows the rollback decision). */
  nextReport(deadlineMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('deadline')), deadlineMs)
      this.#reportWaiters.add((file) => (clearTimeout(timer), resolve(file)))
    })
  }

  until(match: (d: Decision) => boolean, deadlineMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('deadline')), deadlineMs)
      this.#waiters.add({ match, resolve: () => (clearTimeout(timer), resolve()) })
    })
  }

  /** Run the script; false when the deadline passed first. */
  async play(script: () => Promise<void>, deadlineMs: number): Promise<boolean> {
    const timeout = sleep(deadlineMs).then(() => false)
    return Promise.race([
      script().then(
        () => true,
        (e: Error) => (e.message === 'deadline' ? false : Promise.reject(e)),
      ),
      timeout,
    ])
  }

  /** The rule that fired, as the failure report records it. */
  async summariseReport(file: string): Promise<void> {
    const report = JSON.parse(await readFile(file, 'utf8')) as {
      reason: string
      evidence?: { rules?: RuleEvidence[] }
      recentDecisions: unknown[]
    }
    for (const r of report.evidence?.rules?.filter((r) => r.result === 'fail' && !r.rule.startsWith('promote.')) ??
      []) {
      this.say(
        `    report: ${r.metric} = ${r.value?.toFixed(3)} with threshold "${r.threshold}" over` +
          ` ${r.samples.candidate} candidate requests, window ${clock(r.window.start)}-${clock(r.window.end)}`,
      )
    }
    this.say(
      `    report: ${report.recentDecisions.length} recent decisions, metrics of both arms and the differences found`,
    )
  }

  /** What shadow traffic found: fields that differ between legacy and the rewrite, from the store. */
  async differences(instance: Instance): Promise<void> {
    const engine = instance.comparisons as { flush?: () => Promise<void> }
    await engine.flush?.()
    const system = instance.config().systems.find((s) => s.name === DEMO_SYSTEM)
    const { routes } = system === undefined ? { routes: [] } : await readDiffReport(instance.store, system)
    const compared = routes.reduce((a, r) => a + r.compared, 0)
    const mismatches = routes.reduce((a, r) => a + r.mismatches, 0)
    this.say(`shadow compared ${compared} responses, ${mismatches} differed; differences found:`)
    const fields = routes.flatMap((r) =>
      r.fields.map((f) => ({ route: r.route, path: f.path, kind: f.kind, count: f.raw })),
    )
    this.found = fields.sort((a, b) => b.count - a.count).slice(0, 5)
    for (const f of this.found) this.say(`    ${f.route}  ${f.path}  ${f.kind}  x${f.count}`)
    if (this.found.length === 0) this.say('    (none recorded yet)')
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref())
