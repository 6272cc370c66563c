// The package the image installs: `npm pack` of the checkout, run in a private copy of its tree so the
// package's own build scripts (prepare/prepack) never rewrite the checkout's dist/ or dashboard build
// while other processes (tests, a running `tandem up`) read them.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { ROOT, run } from './exec.js'

export interface PackedPackage {
  readonly version: string
  /** The tarball `npm pack` wrote. */
  readonly tarball: string
  /** The copy the tarball was packed from, holding whatever the package's build scripts produced. */
  readonly tree: string
  readonly files: readonly string[]
  remove(): void
}

/** Files the running package needs: the image refuses a tarball without them. */
export const RUNTIME_FILES = ['dist/cli/bin.js', 'dist/cli/main.js', 'dist/dashboard/index.html'] as const

export async function packCheckout(log?: NodeJS.WritableStream): Promise<PackedPackage> {
  const work = mkdtempSync(join(tmpdir(), 'tandem-image-pack-'))
  const remove = () => rmSync(work, { recursive: true, force: true })
  try {
    return { ...(await packIn(work, log)), remove }
  } catch (error) {
    remove()
    throw error
  }
}

async function packIn(work: string, log?: NodeJS.WritableStream): Promise<Omit<PackedPackage, 'remove'>> {
  const tree = join(work, 'package')
  // What the checkout holds, edits included, minus what git ignores (node_modules, dist, builds).
  const listed = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
  for (const file of listed.split('\0').filter(Boolean)) {
    // A worktree's node_modules may be a symlink, which git's `node_modules/` pattern does not ignore.
    if (file.split('/').includes('node_modules')) continue
    if (!existsSync(join(ROOT, file))) continue // deleted, not yet committed
    mkdirSync(dirname(join(tree, file)), { recursive: true })
    cpSync(join(ROOT, file), join(tree, file), { preserveTimestamps: true })
  }
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'))
  log?.write('image: npm pack (runs the package build scripts in a copy of the checkout)\n')
  await run('npm', ['pack', '--loglevel=warn', '--pack-destination', work], { cwd: tree, log })
  const tarball = join(
    work,
    readdirSync(work).find((name) => name.endsWith('.tgz'))!,
  )
  const files = (await run('tar', ['-tzf', tarball]))
    .split('\n')
    .filter(Boolean)
    .map((path) => path.replace(/^package\//, ''))
  const missing = RUNTIME_FILES.filter((file) => !files.includes(file))
  if (missing.length > 0)
    throw new Error(`npm pack left out ${missing.join(', ')}: check package.json "files" and the build`)
  return {
    version: (JSON.parse(packageJson(tree)) as { version: string }).version,
    tarball,
    tree,
    files,
  }
}

export function packageJson(tree: string): string {
  return readFileSync(join(tree, 'package.json'), 'utf8')
}
