// Runs the real `tandem` command (bin/tandem.js) in a child process, as a user would, and returns its
// exit code and output. `tandem up` runs through spawnUp (up.ts); bridge and demo tests spawn BIN themselves.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = fileURLToPath(new URL('../../bin/tandem.js', import.meta.url))

export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export function tandem(args: readonly string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runProcess(process.execPath, [BIN, ...args], cwd, env)
}

/** Run any command to its end and collect its exit code and output. */
export function runProcess(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
