// The two base images the Containerfile starts from, made from Debian's packages with debootstrap (no
// registry): `build` keeps apt so the build stage can add compilers, `runtime` has no package manager.
// Both come from one debootstrap run and are cached under a key of the recipe below: as podman images
// (`localhost/tandem-base:<key>`) and as tarballs in ~/.cache/tandem-image, so a second build, or a
// build after the podman store was emptied, skips debootstrap.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { run, runCommand } from './exec.js'

export const BASE_RECIPE = {
  // trixie's nodejs is 20.19 (the package needs >= 20.19; bookworm's is 18).
  suite: 'trixie',
  mirror: 'http://deb.debian.org/debian',
  packages: ['nodejs', 'ca-certificates'],
  // Emptied in both images: documentation, manuals, translations, apt's downloads and indexes, logs.
  empty: [
    'usr/share/doc',
    'usr/share/man',
    'usr/share/info',
    'usr/share/locale',
    'usr/share/lintian',
    'var/cache/apt',
    'var/lib/apt/lists',
    'var/cache/debconf',
    'var/log',
  ],
  // Removed from the runtime image only: the package manager and the perl its scripts need, and glibc's
  // iconv modules (Node.js converts text with ICU).
  purge: ['apt', 'libapt-pkg7.0', 'sqv', 'debian-archive-keyring', 'perl-base'],
  runtimeEmpty: ['var/cache/apt', 'var/lib/apt', 'etc/apt', 'var/log', 'usr/lib/x86_64-linux-gnu/gconv'],
} as const

export interface BaseImages {
  readonly build: string
  readonly runtime: string
  /** Whether debootstrap ran (false: both images came from the cache). */
  readonly bootstrapped: boolean
}

export function baseKey(recipe = BASE_RECIPE): string {
  return `${recipe.suite}-${createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 12)}`
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tandem-image')
}

async function imageExists(tag: string): Promise<boolean> {
  return (await runCommand('podman', ['image', 'exists', tag])).code === 0
}

/** Make sure both base images exist, from podman's store, the tarball cache or a fresh debootstrap. */
export async function ensureBaseImages(log?: NodeJS.WritableStream): Promise<BaseImages> {
  const key = baseKey()
  const tags = { build: `localhost/tandem-base:${key}-build`, runtime: `localhost/tandem-base:${key}` }
  if ((await imageExists(tags.build)) && (await imageExists(tags.runtime))) return { ...tags, bootstrapped: false }

  const dir = join(cacheDir(), key)
  const tarballs = { build: join(dir, 'build.tar'), runtime: join(dir, 'runtime.tar') }
  let bootstrapped = false
  if (!existsSync(tarballs.build) || !existsSync(tarballs.runtime)) {
    await bootstrap(dir, tarballs, log)
    bootstrapped = true
  }
  for (const which of ['build', 'runtime'] as const) {
    log?.write(`image: importing ${tags[which]}\n`)
    await run('podman', ['import', '--quiet', tarballs[which], tags[which]])
  }
  return { ...tags, bootstrapped }
}

async function bootstrap(
  dir: string,
  tarballs: { build: string; runtime: string },
  log?: NodeJS.WritableStream,
): Promise<void> {
  const { suite, mirror, packages, empty, purge, runtimeEmpty } = BASE_RECIPE
  const rootfs = join(dir, 'rootfs')
  rmSync(rootfs, { recursive: true, force: true })
  mkdirSync(rootfs, { recursive: true })
  log?.write(`image: debootstrap ${suite} (${packages.join(', ')}) into ${rootfs}\n`)
  await run('debootstrap', ['--variant=minbase', `--include=${packages.join(',')}`, suite, rootfs, mirror], { log })
  for (const path of empty) emptyDir(join(rootfs, path))
  // apt expects its work directories to exist.
  for (const path of ['var/cache/apt/archives/partial', 'var/lib/apt/lists/partial'])
    mkdirSync(join(rootfs, path), { recursive: true })
  await writeTarball(rootfs, tarballs.build)

  await run(
    'chroot',
    [rootfs, 'dpkg', '--purge', '--force-remove-essential', '--force-remove-protected', '--force-depends', ...purge],
    { log },
  )
  for (const path of runtimeEmpty) emptyDir(join(rootfs, path))
  await writeTarball(rootfs, tarballs.runtime)
  rmSync(rootfs, { recursive: true, force: true })
}

function emptyDir(path: string): void {
  if (!existsSync(path)) return
  for (const entry of readdirSync(path)) rmSync(join(path, entry), { recursive: true, force: true })
}

/** tar the tree into `file` atomically, so an interrupted run never leaves a truncated cache entry. */
async function writeTarball(rootfs: string, file: string): Promise<void> {
  const partial = `${file}.partial`
  await run('tar', ['--numeric-owner', '--xattrs', '-C', rootfs, '-cf', partial, '.'])
  renameSync(partial, file)
}
