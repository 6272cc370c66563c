#!/usr/bin/env node
// The `tandem` command. Runs the compiled dist/ when it is fresh (see build-state.js); otherwise runs
// src/ through tsx, so a checkout with edited sources, or without a build, still works.
import { distIsFresh } from './build-state.js'

let main
if (distIsFresh()) {
  ;({ main } = await import('../dist/cli/main.js'))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  ;({ main } = await import('../src/cli/main.ts'))
}
await main(process.argv)
