#!/usr/bin/env node
// The `tandem` command as package.json's "bin" names it: runs the compiled CLI. In a git checkout, whose
// dist/ may be older than edited sources, it hands over to bin/tandem.js (the development launcher, not
// shipped), which runs src/ through tsx when the build is stale.
import { existsSync } from 'node:fs'

const devLauncher = new URL('../../bin/tandem.js', import.meta.url)
if (existsSync(devLauncher) && existsSync(new URL('../../src/cli/main.ts', import.meta.url))) {
  await import(devLauncher.href)
} else {
  const { main } = await import('./main.js')
  await main(process.argv)
}
