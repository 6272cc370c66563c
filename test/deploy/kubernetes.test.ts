// deploy/kubernetes renders offline with `kubectl kustomize`, every object it renders is valid against
// the Kubernetes API schemas (kubernetes-models), and what it deploys holds together: replicas on a
// PostgreSQL store, probes on the admin /healthz, the image's non-root user, and a tandem.yaml that
// validates once an overlay supplies the Secret as docs/deploy.md shows.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Secret, type ISecret } from 'kubernetes-models/v1/Secret'
import { Service, type IService } from 'kubernetes-models/v1/Service'
import { afterAll, describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { assertAdminBindSafe, listenHost } from '../../src/admin/bind-check.js'
import { parseConfig, type ConfigIssue } from '../../src/config/load.js'
import { TandemError } from '../../src/errors.js'
import { ROOT } from '../support/cli.js'

const BASE = join(ROOT, 'deploy/kubernetes')
const exec = promisify(execFile)

interface Rendered {
  readonly deployment: IDeployment
  readonly services: readonly IService[]
  readonly configMap: IConfigMap
  readonly secret: ISecret
  readonly pdb: IPodDisruptionBudget
}

/** `kubectl kustomize DIR`, each object validated by its kubernetes-models class. */
async function render(dir: string): Promise<Rendered> {
  const { stdout } = await exec('kubectl', ['kustomize', dir], { maxBuffer: 16 << 20 })
  const objects = parseAllDocuments(stdout).map((doc) => doc.toJS() as { apiVersion: string; kind: string })
  const of = <T>(apiVersion: string, kind: string): T[] =>
    objects.filter((o) => o.apiVersion === apiVersion && o.kind === kind) as T[]
  const deployments = of<IDeployment>('apps/v1', 'Deployment').map((d) => new Deployment(d))
  const services = of<IService>('v1', 'Service').map((s) => new Service(s))
  const configMaps = of<IConfigMap>('v1', 'ConfigMap').map((c) => new ConfigMap(c))
  // kustomize folds long base64 values over several lines; the API server's decoder skips the line
  // breaks, the schema's "byte" format does not, so they are dropped before validating.
  const secrets = of<ISecret>('v1', 'Secret').map(
    (s) =>
      new Secret({
        ...s,
        data: Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, v.replace(/\s/g, '')])),
      }),
  )
  const pdbs = of<IPodDisruptionBudget>('policy/v1', 'PodDisruptionBudget').map((p) => new PodDisruptionBudget(p))
  const known = [...deployments, ...services, ...configMaps, ...secrets, ...pdbs]
  // Nothing rendered escapes validation: every object is one of the kinds above.
  expect(objects.map((o) => `${o.apiVersion} ${o.kind}`).sort()).toEqual(
    known.map((o) => `${o.apiVersion} ${o.kind}`).sort(),
  )
  for (const object of known) object.validate()
  expect([deployments.length, configMaps.length, secrets.length, pdbs.length]).toEqual([1, 1, 1, 1])
  return { deployment: deployments[0]!, services, configMap: configMaps[0]!, secret: secrets[0]!, pdb: pdbs[0]! }
}

function secretEnv(secret: ISecret): Record<string, string> {
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  )
}

function tandemYaml(rendered: Rendered): string {
  return rendered.configMap.data!['tandem.yaml']!
}

function catchError(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  return undefined
}

function port(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1))
}

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
const overlays: string[] = []

afterAll(() => {
  for (const dir of overlays) rmSync(dir, { recursive: true, force: true })
})

/** An overlay as docs/deploy.md writes one: its own tandem.yaml, the real Secret, the image from a registry. */
function overlay(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-kustomize-'))
  overlays.push(dir)
  const base = readFileSync(join(BASE, 'tandem.yaml'), 'utf8')
  writeFileSync(
    join(dir, 'tandem.yaml'),
    base.replace(
      /^systems: \[\]$/m,
      `systems:
  - name: orders
    legacy:    { url: http://orders-legacy.shop.svc:8080 }
    candidate: { url: http://orders-v2.shop.svc:8080 }
    routes: [{ path: /orders/** }]`,
    ),
  )
  writeFileSync(
    join(dir, 'tandem.env'),
    [
      'TANDEM_STORE_URL=postgresql://tandem:s3cret@db.example.internal:5432/tandem',
      'TANDEM_ADMIN_TOKEN=an-admin-token-of-32-characters!',
      'TANDEM_VIEWER_TOKEN=a-viewer-token-of-32-characters!',
      '',
    ].join('\n'),
  )
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: migration
resources:
  - ${relative(dir, BASE)}
configMapGenerator:
  - name: tandem-config
    behavior: replace
    files: [tandem.yaml]
secretGenerator:
  - name: tandem
    behavior: replace
    envs: [tandem.env]
images:
  - name: localhost/tandem
    newName: registry.example.internal/platform/tandem
    newTag: "${version}"
replicas:
  - name: tandem
    count: 4
`,
  )
  return dir
}

describe('deploy/kubernetes', () => {
  it(
    'renders valid objects: a Deployment of several replicas ' +
      'with probes, limits and a non-root, read-only container',
    async () => {
      const { deployment, services, pdb } = await render(BASE)
      const spec = deployment.spec!
      expect(spec.replicas).toBeGreaterThanOrEqual(2)
      const pod = spec.template.spec!
      const [container] = pod.containers
      expect(pod.containers).toHaveLength(1)
      expect(container!.image).toBe(`localhost/tandem:${version}`)
      expect(container!.args).toEqual(['up', '-c', '/etc/tandem/tandem.yaml'])

      // The pod runs as the image's user (deploy/image/Containerfile), never as root.
      const user = /^USER (\d+):(\d+)$/m.exec(readFileSync(join(ROOT, 'deploy/image/Containerfile'), 'utf8'))!
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: Number(user[1]),
        runAsGroup: Number(user[2]),
      })
      expect(container!.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      })
      expect(container!.volumeMounts?.map((m) => m.mountPath)).toContain('/tmp')

      for (const probe of [container!.readinessProbe, container!.livenessProbe]) {
        expect(probe?.httpGet).toMatchObject({ path: '/healthz', port: 'admin' })
      }
      expect(container!.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) })
      expect(container!.resources?.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) })
      // The drain after SIGTERM (up to 30 s) fits in the grace period.
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30)

      const labels = spec.template.metadata!.labels!
      const named = new Set(container!.ports!.map((p) => p.name))
      expect(services.map((s) => s.metadata!.name).sort()).toEqual(['tandem-admin', 'tandem-gateway'])
      for (const service of services) {
        expect(labels).toMatchObject(service.spec!.selector!)
        for (const p of service.spec!.ports!) expect(named).toContain(p.targetPort)
      }
      expect(labels).toMatchObject(pdb.spec!.selector!.matchLabels!)
      expect(pdb.spec!.maxUnavailable).toBeLessThan(spec.replicas!)
    },
  )

  it('mounts the generated ConfigMap and Secret, and the container ports match tandem.yaml', async () => {
    const rendered = await render(BASE)
    const pod = rendered.deployment.spec!.template.spec!
    const container = pod.containers[0]!
    const config = pod.volumes!.find((v) => v.configMap !== undefined)!
    expect(config.configMap!.name).toBe(rendered.configMap.metadata!.name)
    expect(container.volumeMounts).toContainEqual(
      expect.objectContaining({ name: config.name, mountPath: '/etc/tandem', readOnly: true }),
    )
    expect(container.envFrom).toEqual([{ secretRef: { name: rendered.secret.metadata!.name } }])

    const raw = parse(tandemYaml(rendered)) as { gateway: { listen: string }; admin: { listen: string } }
    const ports = Object.fromEntries(container.ports!.map((p) => [p.name, p.containerPort]))
    expect(ports).toEqual({ gateway: port(raw.gateway.listen), admin: port(raw.admin.listen) })
    expect([listenHost(raw.gateway.listen), listenHost(raw.admin.listen)]).toEqual(['0.0.0.0', '0.0.0.0'])
  })

  it("refuses to run on the base's placeholder Secret: its tokens are too short", async () => {
    const rendered = await render(BASE)
    const error = catchError(() => parseConfig(tandemYaml(rendered), 'tandem.yaml', secretEnv(rendered.secret)))
    expect(error).toBeInstanceOf(TandemError)
    const issues = (error as TandemError).details as ConfigIssue[]
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['admin.tokens[0].token', expect.stringContaining('a token has at least 16 characters')],
      ['admin.tokens[1].token', expect.stringContaining('a token has at least 16 characters')],
    ])
  })

  it(
    'with the overlay of docs/deploy.md: a valid tandem.yaml ' + 'on PostgreSQL whose admin listener is protected',
    async () => {
      const rendered = await render(overlay())
      expect(rendered.deployment.metadata!.namespace).toBe('migration')
      expect(rendered.deployment.spec!.replicas).toBe(4)
      expect(rendered.deployment.spec!.template.spec!.containers[0]!.image).toBe(
        `registry.example.internal/platform/tandem:${version}`,
      )
      const env = secretEnv(rendered.secret)
      const volumes = rendered.deployment.spec!.template.spec!.volumes!
      expect(volumes.map((v) => v.configMap?.name).filter(Boolean)).toEqual([rendered.configMap.metadata!.name])
      expect(rendered.deployment.spec!.template.spec!.containers[0]!.envFrom).toEqual([
        { secretRef: { name: rendered.secret.metadata!.name } },
      ])

      const config = parseConfig(tandemYaml(rendered), 'tandem.yaml', env)
      // Several replicas share one store; SQLite is refused across processes (SPEC 11).
      expect(config.store).toBe(env.TANDEM_STORE_URL)
      expect(config.store).toMatch(/^postgres(ql)?:\/\//)
      expect(config.admin.tokens.map((t) => t.role).sort()).toEqual(['admin', 'viewer'])
      expect(config.systems.map((s) => s.name)).toEqual(['orders'])
      expect(() => assertAdminBindSafe(config)).not.toThrow()
    },
  )
})
