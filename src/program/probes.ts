// The primitive probes a checklist is built from: a shell command, an HTTP GET or POST, a path or a
// non-empty file. Each returns ok plus a capped, human-readable output that is persisted as evidence.
import { spawn } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { request } from 'undici'
import { redactSecrets } from '../redact.js'

export interface ProbeResult {
  readonly ok: boolean
  readonly output: string
}

/** Output kept per probe: enough to see a failing test's summary, small enough for every row in the store. */
export const OUTPUT_CAP = 8192

/** Keep the head and the tail of long output: a failure's cause is usually at one end. */
export function capOutput(raw: string, cap = OUTPUT_CAP): string {
  // Outputs are persisted and printed: a command line or its output may hold a URL with a password.
  const text = redactSecrets(raw)
  if (text.length <= cap) return text
  const half = Math.floor((cap - 40) / 2)
  return `${text.slice(0, half)}\n... (${text.length - 2 * half} characters cut) ...\n${text.slice(-half)}`
}

/**
 * Run `argv` (or a shell command line) and pass when it exits 0. The child gets its own process group
 * so a timeout kills everything it started, not only the shell.
 */
export function runCommand(
  command: string | readonly string[],
  timeoutMs: number,
  cwd = process.cwd(),
): Promise<ProbeResult & { exitCode: number | null }> {
  return new Promise((resolve) => {
    const child =
      typeof command === 'string'
        ? spawn(command, { shell: true, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(command[0]!, command.slice(1), { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    const chunks: string[] = []
    let size = 0
    const collect = (b: Buffer) => {
      // Collect a little beyond the cap so capOutput can still show the tail.
      if (size < OUTPUT_CAP * 8) {
        chunks.push(b.toString('utf8'))
        size += b.length
      }
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, timeoutMs)
    const label = typeof command === 'string' ? command : command.join(' ')
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ ok: false, exitCode: null, output: capOutput(`$ ${label}\ncannot run: ${error.message}`) })
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const text = chunks.join('')
      const status = timedOut
        ? `timed out after ${timeoutMs} ms`
        : signal !== null
          ? `killed by ${signal}`
          : `exit ${code}`
      resolve({
        ok: !timedOut && code === 0,
        exitCode: timedOut ? null : code,
        output: capOutput(`$ ${label}\n${text}${text.endsWith('\n') || text === '' ? '' : '\n'}(${status})`),
      })
    })
  })
}

/** GET (or POST with a JSON body) and pass on a 2xx answer; the output names the URL as `label`. */
export async function probeHttp(url: string, timeoutMs: number, body?: unknown, label = url): Promise<ProbeResult> {
  const method = body === undefined ? 'GET' : 'POST'
  try {
    const res = await request(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    })
    const text = await res.body.text()
    const ok = res.statusCode >= 200 && res.statusCode < 300
    return { ok, output: capOutput(`${method} ${label} -> ${res.statusCode}${text === '' ? '' : `\n${text}`}`) }
  } catch (error) {
    return { ok: false, output: capOutput(`${method} ${label} failed: ${(error as Error).message}`) }
  }
}

export async function probePath(path: string): Promise<ProbeResult> {
  try {
    const s = await stat(path)
    return { ok: true, output: `${path} exists (${s.isDirectory() ? 'directory' : `${s.size} bytes`})` }
  } catch {
    return { ok: false, output: `${path} does not exist` }
  }
}

export async function probeNonEmptyFile(path: string): Promise<ProbeResult> {
  try {
    const s = await stat(path)
    if (!s.isFile()) return { ok: false, output: `${path} is not a file` }
    if (s.size === 0) return { ok: false, output: `${path} is empty; write the rollback plan in it` }
    return { ok: true, output: `${path} exists (${s.size} bytes)` }
  } catch {
    return { ok: false, output: `${path} does not exist; write the rollback plan there` }
  }
}
