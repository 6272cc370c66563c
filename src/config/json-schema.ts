// The JSON Schema of tandem.yaml for editors, generated from the same zod definition as the validator.
import { z } from 'zod'
import { configSchema } from './schema.js'

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' })
  return {
    ...schema,
    $id: 'https://tandem.dev/tandem.schema.json',
    title: 'Tandem program (tandem.yaml)',
    description: 'A migration program: systems, waves and defaults. See SPEC section 2.',
  }
}
