// `npm run image`: builds localhost/tandem:VERSION and :latest with podman from Debian's packages and
// the checkout's `npm pack`, with no registry (SPEC 14). deploy/image/Containerfile says what the
// image holds; this module prepares its build context and runs podman.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureBaseImages } from './base.js'
import { ROOT, run, runCommand } from './exec.js'
import { packCheckout, packageJson } from './pack.js'

export const IMAGE = 'localhost/tandem'
const BUILD_STAGE = 'localhost/tandem-build:latest'

export interface BuiltImage {
  readonly version: string
  readonly tags: readonly string[]
  readonly id: string
  readonly sizeBytes: number
  /** Whether debootstrap ran for this build (false: the cached base was reused). */
  readonly bootstrapped: boolean
}

export async function buildImage(log?: NodeJS.WritableStream): Promise<BuiltImage> {
  const bases = await ensureBaseImages(log)
  const pkg = await packCheckout(log)
  const context = mkdtempSync(join(tmpdir(), 'tandem-image-context-'))
  try {
    cpSync(pkg.tarball, join(context, 'tandem.tgz'))
    writeFileSync(join(context, 'package.json'), packageJson(pkg.tree))
    cpSync(join(ROOT, 'package-lock.json'), join(context, 'package-lock.json'))
    writeFileSync(join(context, 'host-ca.crt'), hostCertificates())
    for (const file of ['tandem.yaml', 'healthcheck.mjs']) cpSync(join(ROOT, 'deploy/image', file), join(context, file))

    const tags = [`${IMAGE}:${pkg.version}`, `${IMAGE}:latest`]
    const build = (target: readonly string[], names: readonly string[]) =>
      run(
        'podman',
        [
          'build',
          '--format',
          'docker', // HEALTHCHECK is not part of the OCI image format
          '--network',
          'host', // npm ci and apt-get reach their registries through the host's network
          '--file',
          join(ROOT, 'deploy/image/Containerfile'),
          '--build-arg',
          `BUILD_BASE=${bases.build}`,
          '--build-arg',
          `RUNTIME_BASE=${bases.runtime}`,
          '--build-arg',
          `VERSION=${pkg.version}`,
          ...target,
          ...names.flatMap((tag) => ['--tag', tag]),
          context,
        ],
        { log },
      )
    // The build stage is tagged too, so that the build it replaces can be removed (below) while its
    // cached layers (the dependencies) stay.
    const previous = { stage: await imageId(BUILD_STAGE), image: await imageId(tags[0]!) }
    await build(['--target', 'build'], [BUILD_STAGE])
    await build([], tags)
    const [id, size] = (await run('podman', ['image', 'inspect', '--format', '{{.Id}} {{.Size}}', tags[0]!]))
      .trim()
      .split(' ')
    // What the tags named before is left without a name: remove it unless a container still uses it.
    if (previous.image !== undefined && previous.image !== id)
      await runCommand('podman', ['image', 'rm', previous.image])
    const stage = await imageId(BUILD_STAGE)
    if (previous.stage !== undefined && previous.stage !== stage)
      await runCommand('podman', ['image', 'rm', previous.stage])
    return { version: pkg.version, tags, id: id!, sizeBytes: Number(size), bootstrapped: bases.bootstrapped }
  } finally {
    rmSync(context, { recursive: true, force: true })
    pkg.remove()
  }
}

async function imageId(tag: string): Promise<string | undefined> {
  const result = await runCommand('podman', ['image', 'inspect', '--format', '{{.Id}}', tag])
  return result.code === 0 ? result.stdout.trim() : undefined
}

/** The CA bundle Node.js on this host trusts beyond its own (empty when there is none). */
function hostCertificates(env: NodeJS.ProcessEnv = process.env): string {
  for (const file of [env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt']) {
    if (file !== undefined && existsSync(file)) return readFileSync(file, 'utf8')
  }
  return ''
}
