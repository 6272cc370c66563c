// The import graph of src/ has no cycle and keeps the one-way layering of docs/architecture.md: the
// rules live in .dependency-cruiser.cjs (also run by `npx depcruise src --config .dependency-cruiser.cjs`).
import { fileURLToPath } from 'node:url'
import { cruise, type ICruiseResult } from 'dependency-cruiser'
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options'
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config'
import { beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

describe('imports of src/', () => {
  let result: ICruiseResult

  beforeAll(async () => {
    const options = await extractDepcruiseOptions(`${ROOT}.dependency-cruiser.cjs`)
    const tsConfig = extractTSConfig(`${ROOT}tsconfig.json`)
    // Paths in the rules and the result are relative to the checkout.
    const tsConfigFile = { fileName: `${ROOT}tsconfig.json` }
    const output = await cruise(['src'], { ...options, baseDir: ROOT, tsConfig: tsConfigFile }, {}, { tsConfig })
    result = output.output as ICruiseResult
  })

  it('reads the whole tree', () => {
    expect(result.summary.totalCruised).toBeGreaterThan(200)
    // A relative import it cannot resolve would hide that module's edges from every rule.
    const unresolved = result.modules.flatMap((m) =>
      m.dependencies
        .filter((d) => d.couldNotResolve && d.module.startsWith('.'))
        .map((d) => `${m.source} -> ${d.module}`),
    )
    expect(unresolved).toEqual([])
  })

  it('has no import cycle and breaks no layering rule', () => {
    const violations = result.summary.violations.map((v) =>
      [`${v.rule.name}: ${v.from} -> ${v.to}`, ...(v.cycle ?? []).map((c) => `  via ${c.name}`)].join('\n'),
    )
    expect(violations).toEqual([])
  })
})
