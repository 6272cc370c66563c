// Runs the external commands `npm run image` drives (debootstrap, tar, npm, podman), each with the
// podman settings of deploy/image/containers.conf, and says which command failed and how.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** podman's configuration for this machine kind: runc, cgroupfs, file events, modest ulimits. */
export const CONTAINERS_CONF = fileURLToPath(new URL('../../deploy/image/containers.conf', import.meta.url))

/** The environment every podman/buildah call gets. */
export function podmanEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, CONTAINERS_CONF }
}

export interface RunOptions {
  readonly cwd?: string
  readonly env?: NodeJS.ProcessEnv
  /** Where the command's stderr (and stdout unless `capture`) goes; nothing is shown when unset. */
  readonly log?: NodeJS.WritableStream
}

export interface RunResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Run a command to completion; never throws for a non-zero exit. */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: podmanEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString()
      options.log?.write(b)
    })
    child.stderr.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-20_000)
      options.log?.write(b)
    })
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new Error(`${command} is not installed (${installHint(command)})`) : error)
    })
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }))
  })
}

/** Run a command and return its stdout; throw with the end of its stderr when it fails. */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await runCommand(command, args, options)
  if (result.code !== 0) {
    const tail = result.stderr.trim().split('\n').slice(-15).join('\n')
    throw new Error(`${command} ${args.join(' ')} exited with ${result.code}\n${tail}`)
  }
  return result.stdout
}

function installHint(command: string): string {
  if (['podman', 'buildah', 'debootstrap', 'runc'].includes(command))
    return 'apt-get install -y podman buildah runc debootstrap'
  return `install ${command}`
}
