// The dashboard in a real Chromium (playwright-core, Debian's /usr/bin/chromium): overview, system
// page, a diff sample, rollback as operator, no action buttons for a viewer, and a clean console.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAudit } from '../../src/admin/audit.js'
import { getState } from '../../src/store/system-state.js'
import { services } from '../support/services.js'
import { startStack, TOKENS, type Stack } from './stack.js'

const ARTIFACTS = join(process.cwd(), 'test-results', 'browser')
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

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
      const canary = page.locator('.stage-column[data-stage="canary"] [data-system="todo-api"]')
      await canary.waitFor()
      await expect(page.locator('.wave[data-wave="pilot"]').textContent()).resolves.toContain('todo-api')
      await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true })

      await canary.click()
      await page.getByTestId('system').waitFor()
      await expect(page.getByTestId('stage').textContent()).resolves.toContain('canary')
      await expect(page.getByTestId('weight').textContent()).resolves.toBe('50 %')
      await expect(page.locator('.chart svg path.line.candidate').first().getAttribute('d')).resolves.toMatch(/^M[\d.]+,[\d.]+/)
      await expect(page.getByTestId('timeline').textContent()).resolves.toContain('advance')
      await page.locator('.verdict summary').first().click()
      await expect(page.locator('.verdict .evidence').first().textContent()).resolves.toContain('errorRate')
      await page.screenshot({ path: join(ARTIFACTS, 'system.png'), fullPage: true })

      await page.getByText('Diff explorer →').click()
      await page.getByTestId('sample').first().waitFor()
      const marked = page.locator('.side.candidate .line.diff')
      await expect(marked.first().textContent()).resolves.toContain('"done": 0')
      await expect(page.locator('.side.legacy .line.diff').first().textContent()).resolves.toContain('"done": false')
      await expect(page.locator('.side.legacy .line:not(.diff)').filter({ hasText: '"title"' }).count()).resolves.toBe(1)
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
      expect(audit).toMatchObject({ actor: 'otto', action: 'rollback', result: 'ok', params: { reason: 'candidate type bug' } })
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
      fetch(`${stack.adminUrl}/api/v1/program/${verb}`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason }) })
    expect((await post('halt', 'mass failure drill')).status).toBe(200)
    const { context, page } = await open(TOKENS.viewer)
    try {
      const banner = page.getByTestId('halt-banner')
      await banner.waitFor()
      await expect(banner.textContent()).resolves.toMatch(/Program halted — mass failure drill \(by otto at .*\)/)
      await expect(page.locator('[data-kpi="failedMigrations"] .kpi-target').textContent()).resolves.toMatch(/target == 0: (met|missed)/)
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
