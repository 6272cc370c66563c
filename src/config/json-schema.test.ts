import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { configJsonSchema } from './json-schema.js'

describe('tandem.schema.json', () => {
  it('is generated from the validator and up to date (run `npm run schema` after changing the config)', () => {
    const published = JSON.parse(readFileSync(new URL('../../tandem.schema.json', import.meta.url), 'utf8'))
    expect(published).toEqual(configJsonSchema())
  })

  it('forbids unknown keys at the top level and in systems, as the validator does', () => {
    const schema = configJsonSchema() as {
      additionalProperties?: boolean
      properties: { systems: { items: { additionalProperties?: boolean } } }
    }
    expect(schema.additionalProperties).toBe(false)
    expect(schema.properties.systems.items.additionalProperties).toBe(false)
  })
})
