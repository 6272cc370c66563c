// Regenerates tandem.schema.json from the config definition (`npm run schema`); a test checks it is current.
import { writeFile } from 'node:fs/promises'
import { configJsonSchema } from '../src/config/json-schema.js'

await writeFile(new URL('../tandem.schema.json', import.meta.url), `${JSON.stringify(configJsonSchema(), null, 2)}\n`)
console.log('wrote tandem.schema.json')
