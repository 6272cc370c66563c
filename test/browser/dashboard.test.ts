// The dashboard in a real Chromium (playwright-core, Debian's /usr/bin/chromium): overview, system
// page, a diff sample, rollback as operator, no action buttons for a viewer, and a clean console.
import { mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAudit } from '../../src/store/audit.js'
import { getState } from '../../src/store/system-state.js'
import { system, tandemConfig } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { origin, type Origin } from '../support/loopback.js'
import { services } from '../support/services.js'
import { seedDiffsAndVerdict } from './seed.js'

const ARTIFACTS = join(process.cwd(), 'test-results', 'browser')
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]
const TOKENS = { viewer: 'browser-viewer-token-0001', operator: 'browser-operator-token-001' } as const

/** A todo API; the candidate renders `done` as 0/1, is a little slower and fails id 9, 19 ...: real differences. */
function todoApi(arm: 'legacy' | 'candidate'): Promise<Origin> {
  return origin((req, res) => {
    const id = Number(req.url?.split('/').pop() ?? 0)
    const body = arm === 'legacy' ? { id, title: `todo ${id}`, done: false } : { id, title: `todo ${id}`, done: 0 }
    setTimeout(
      () => {
        res.writeHead(arm === 'candidate' && id % 10 === 9 ? 500 : 200, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      },
      arm === 'legacy' ? 2 : 6,
    )
  })
}

type Stack = TestInstance

/**
 * The instance `tandem up` runs (with the controller, the dashboard and a SQLite store) over the two todo
 * APIs: todo-api (P0, wave pilot) in canary at 50 % after real traffic, with a diff report and a failing
 * verdict seeded; billing (P1, wave main) pending. `tokens: false` runs the loopback default: no
 * admin.tokens, every caller the anonymous admin.
 */
async function startStack(options: { tokens?: boolean } = {}): Promise<Stack> {
  const legacy = await todoApi('legacy')
  const candidate = await todoApi('candidate')
  const arms = { legacy: legacy.url, candidate: candidate.url }
  const document = tandemConfig({
    tokens:
      options.tokens === false
        ? []
        : [
            { name: 'vera', role: 'viewer', token: TOKENS.viewer },
            { name: 'otto', role: 'operator', token: TOKENS.operator },
          ],
    systems: [
      system('todo-api', {
        ...arms,
        category: 'api',
        priority: 'P0',
        routes: [{ path: '/todos/:id', methods: ['GET'] }],
        rollout: { stickiness: 'random', steps: [{ shadow: '1h' }, { weight: 50, pause: '1h' }, { weight: 100 }] },
        analysis: { interval: '1h' },
      }),
      system('billing', { ...arms, category: 'data-processing', priority: 'P1', routes: [{ path: '/bills/**' }] }),
    ],
    waves: [
      { name: 'pilot', systems: { priority: ['P0'] } },
      { name: 'main', systems: { priority: ['P1'] } },
    ],
  })
  const stack = await buildInstance(document, { controller: { healthChecks: false }, dashboard: true, drainMs: 1000 })
  // Into canary at 50 %, as an operator would, then real traffic through the gateway.
  await stack.controller.act('todo-api', 'start', { actor: 'setup', force: true, reason: 'browser test' })
  await stack.controller.act('todo-api', 'advance', { actor: 'setup', reason: 'to canary' })
  for (let i = 0; i < 60; i += 1) {
    const res = await fetch(`${stack.gatewayUrl}/todos/${i}`)
    await res.arrayBuffer()
  }
  await seedDiffsAndVerdict(stack.store)
  return {
    ...stack,
    close: async () => {
      await stack.close()
      await legacy.close()
      await candidate.close()
    },
  }
}

describe('dashboard in Chromium', () => {
  let stack: Stack
  let browser: Browser
  const consoleErrors: string[] = []

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    stack = await startStack()
    // launch() gives the browser a fresh temporary profile (user-data-dir) and deletes it on close.
    browser = await chromium.launch({ executablePath: services.chromium, args: ARGS, timeout: 60_000 })
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.close()
  })

  async function open(token: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } })
    const page = await context.newPage()
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text())
    })
    page.on('pageerror', (e) => consoleErrors.push(e.message))
    page.on('dialog', (d) => void d.accept())
    await page.goto(`${stack.adminUrl}/#token=${token}`)
    return { context, page }
  }

  it('shows the overview, a system, a diff sample, and rolls back as operator', async () => {
    const { context, page } = await open(TOKENS.operator)
    try {
      await page.locator('#whoami').getByText('otto (operator)').waitFor()
      // The token left the address bar for sessionStorage.
      expect(page.url()).not.toContain('token=')
      await page.getByTestId('kpis').waitFor()
      await expect(page.getByTestId('kpis').textContent()).resolves.toContain('0 / 2Systems migrated')
      // Nothing promoted or rolled back yet: no success score (issue 12, defect 15).
      await expect(page.getByTestId('kpis').textContent()).resolves.toContain(
        '–Success score (after a promotion or rollback)',
      )
      const canary = page.locator('.stage-column[data-stage="canary"] [data-system="todo-api"]')
      await canary.waitFor()
      await expect(page.locator('.wave[data-wave="pilot"]').textContent()).resolves.toContain('todo-api')
      await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true })

      await canary.click()
      await page.getByTestId('system').waitFor()
      await expect(page.getByTestId('stage').textContent()).resolves.toContain('canary')
      await expect(page.getByTestId('weight').textContent()).resolves.toBe('50 %')
      await expect(page.locator('.chart svg path.line.candidate').first().getAttribute('d')).resolves.toMatch(
        /^M[\d.]+,[\d.]+/,
      )
      await expect(page.getByTestId('timeline').textContent()).resolves.toContain('advance')
      await page.locator('.verdict summary').first().click()
      await expect(page.locator('.verdict .evidence').first().textContent()).resolves.toContain('errorRate')
      await page.screenshot({ path: join(ARTIFACTS, 'system.png'), fullPage: true })

      await page.getByText('Diff explorer →').click()
      await page.getByTestId('sample').first().waitFor()
      const marked = page.locator('.side.candidate .line.diff')
      await expect(marked.first().textContent()).resolves.toContain('"done": 0')
      await expect(page.locator('.side.legacy .line.diff').first().textContent()).resolves.toContain('"done": false')
      await expect(page.locator('.side.legacy .line:not(.diff)').filter({ hasText: '"title"' }).count()).resolves.toBe(
        1,
      )
      // The pickers: one route selected; picking another field selects it.
      await expect(page.locator('nav.routes button.selected').count()).resolves.toBe(1)
      const lastField = await page.locator('nav.fields button').last().getAttribute('data-field')
      expect(lastField).toBeTruthy()
      await page.locator('nav.fields button').last().click()
      await page.locator(`nav.fields button.selected[data-field="${lastField}"]`).waitFor()
      await expect(page.locator('nav.fields button.selected').count()).resolves.toBe(1)
      await page.screenshot({ path: join(ARTIFACTS, 'diffs.png'), fullPage: true })

      await page.goBack()
      await page.getByTestId('system').waitFor()
      await page.getByLabel('reason').fill('candidate type bug')
      await page.locator('button[data-action="rollback"]').click()
      await page.getByTestId('stage').getByText('rolled-back').waitFor()
      await page.locator('button[data-action="retry"]').waitFor()
      await page.screenshot({ path: join(ARTIFACTS, 'rolled-back.png'), fullPage: true })

      const state = await getState(stack.store, 'todo-api')
      expect(state.stage).toBe('rolled-back')
      const [audit] = await listAudit(stack.store, { target: 'todo-api', limit: 1 })
      expect(audit).toMatchObject({
        actor: 'otto',
        action: 'rollback',
        result: 'ok',
        params: { reason: 'candidate type bug' },
      })

      // A rollback happened: now the overview scores the program.
      await page.goto(`${stack.adminUrl}/#/`)
      await page
        .getByTestId('kpis')
        .getByText(/^\d+ %$/)
        .first()
        .waitFor()
      await expect(page.getByTestId('kpis').textContent()).resolves.toMatch(/\d+ %Success score(?! \()/)
    } finally {
      await context.close()
    }
  })

  it('shows no action buttons to a viewer', async () => {
    const { context, page } = await open(TOKENS.viewer)
    try {
      await page.locator('#whoami').getByText('vera (viewer)').waitFor()
      await page.goto(`${stack.adminUrl}/#/systems/todo-api`)
      await page.getByTestId('system').waitFor()
      await page.getByTestId('verdicts').waitFor()
      expect(await page.locator('button[data-action]').count()).toBe(0)
      expect(await page.getByTestId('actions').count()).toBe(0)
      await page.screenshot({ path: join(ARTIFACTS, 'viewer.png'), fullPage: true })
    } finally {
      await context.close()
    }
  })

  it('says in a banner that the program is halted, and why', async () => {
    const post = (verb: string, reason: string) =>
      fetch(`${stack.adminUrl}/api/v1/program/${verb}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason }),
      })
    expect((await post('halt', 'mass failure drill')).status).toBe(200)
    const { context, page } = await open(TOKENS.viewer)
    try {
      const banner = page.getByTestId('halt-banner')
      await banner.waitFor()
      await expect(banner.textContent()).resolves.toMatch(/Program halted — mass failure drill \(by otto at .*\)/)
      await expect(page.locator('[data-kpi="failedMigrations"] .kpi-target').textContent()).resolves.toMatch(
        /target == 0: (met|missed)/,
      )
      await page.screenshot({ path: join(ARTIFACTS, 'halted.png'), fullPage: true })
    } finally {
      await context.close()
      expect((await post('resume', 'drill over')).status).toBe(200)
    }
  })

  it('logged no error in the browser console', () => {
    expect(consoleErrors).toEqual([])
  })
})

// Issue 12, defect 2 in a real browser: on the tokenless loopback default the dashboard (its own
// origin) still acts, while a page from another origin cannot, whether it posts a form or a fetch.
describe('tokenless dashboard in Chromium', () => {
  let stack: Stack
  let browser: Browser
  let evil: Server
  let evilUrl: string

  beforeAll(async () => {
    stack = await startStack({ tokens: false })
    browser = await chromium.launch({ executablePath: services.chromium, args: ARGS, timeout: 60_000 })
    const target = `${stack.adminUrl}/api/v1/systems/todo-api/actions`
    // The attacker's page: a text/plain form (no preflight) and a no-cors fetch, both to the admin API.
    const html = `<!doctype html><body>
<form id="f" method="POST" enctype="text/plain" action="${target}/pause">\
<input name='{"reason":"x","a":"' value='"}'></form>
<script>
fetch(${JSON.stringify(`${target}/rollback`)}, \
{ method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' })
  .finally(() => fetch(${JSON.stringify(`${target}/promote`)}, { method: 'POST', mode: 'no-cors' }))
  .finally(() => { document.title = 'sent'; document.getElementById('f').submit() })
</script></body>`
    evil = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html))
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.close()
    await new Promise((r) => evil?.close(r))
  })

  it('lets a page of another origin change nothing, and audits its attempts as refused', async () => {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(evilUrl)
      // The form navigates to the admin API's refusal once the fetches are sent.
      await page.waitForURL(/\/actions\/pause$/)
      await expect(page.textContent('body')).resolves.toMatch(/TANDEM_ERR_ADMIN_(CONTENT_TYPE|FOREIGN_ORIGIN)/)
      const state = await getState(stack.store, 'todo-api')
      expect(state).toMatchObject({ stage: 'canary', paused: false })
      const refused = (await listAudit(stack.store, { target: 'todo-api' })).filter((r) => r.result === 'refused')
      expect(refused.map((r) => r.action).sort()).toEqual(['pause', 'promote', 'rollback'])
    } finally {
      await context.close()
    }
  })

  it('still acts from its own dashboard (same origin)', async () => {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(`${stack.adminUrl}/#/systems/todo-api`)
      await page.getByTestId('system').waitFor()
      await page.locator('button[data-action="pause"]').click()
      await eventually(async () => expect((await getState(stack.store, 'todo-api')).paused).toBe(true), {
        tries: 300,
        every: 100,
      })
      const [audit] = await listAudit(stack.store, { target: 'todo-api', limit: 1 })
      expect(audit).toMatchObject({ actor: 'anonymous', action: 'pause', result: 'ok' })
    } finally {
      await context.close()
    }
  })
})
