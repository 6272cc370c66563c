// `tandem demo` end to end: the CLI runs the whole story and exits 0; its JSON result and the failure
// report it leaves behind show the shadow differences, the automatic rollback and the promotion.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { BIN } from '../support/cli.js'

let dir: string | undefined
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

it('tells the whole story and exits 0', { timeout: 240_000 }, async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-demo-test-'))
  const child = spawn(process.execPath, [BIN, 'demo', '--json', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const code = await new Promise<number | null>((r) => child.on('close', r))
  expect(code, stderr).toBe(0)
  const result = JSON.parse(stdout)
  expect(result).toMatchObject({ ok: true, finalStage: 'promoted' })
  // Shadow found the rewrite's real differences.
  const paths = result.differences.map((d: { path: string }) => d.path)
  expect(paths).toContain('/status')
  expect(paths).toContain('/tags')
  // The fault was caught by the controller and rolled back, then the retry promoted.
  const actions = result.decisions
    .filter((d: { action: string }) => d.action !== 'hold')
    .map((d: { action: string }) => d.action)
  expect(actions[0]).toBe('start')
  expect(actions).toContain('rollback')
  expect(actions.slice(actions.indexOf('rollback'))).toEqual([
    'rollback',
    'retry',
    'advance',
    'advance',
    'advance',
    'promote',
  ])
  const rollback = result.decisions.find((d: { action: string }) => d.action === 'rollback')
  expect(rollback).toMatchObject({ actor: 'controller', fromStage: 'canary' })
  expect(rollback.reason).toContain('errorRate')
  const report = JSON.parse(await readFile(result.failureReport, 'utf8'))
  expect(report.system).toBe('todo-api')
  expect(report.evidence.rules.find((r: { rule: string }) => r.rule === 'rollback.errorRate')).toMatchObject({
    result: 'fail',
    threshold: '> 0.05',
  })
  // The narration went to stderr and names each act.
  for (const text of ['differences found', 'FAULT INJECTED', 'ROLLBACK by controller', 'RETRY by demo', 'PROMOTED'])
    expect(stderr).toContain(text)
})
