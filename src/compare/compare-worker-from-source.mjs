// Worker entry used only when the comparison worker runs from the TypeScript sources (tests, or
// bin/tandem.js without a fresh build): a worker thread does not inherit the tsx loader its parent
// registered, so this registers tsx before importing compare-worker.ts. Plain JavaScript, so Node loads
// it without a loader; not compiled to dist/ and not shipped.
const { register } = await import('tsx/esm/api')
register()
await import('./compare-worker.ts')
