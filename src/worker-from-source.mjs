// Entry of a worker thread started from the TypeScript sources (tests, or bin/tandem.js without a fresh
// build): a worker does not inherit the tsx loader its parent registered, so this registers it, then
// imports the worker's own entry, passed as the thread's last argv. Plain JavaScript, so Node loads it
// without a loader; not compiled to dist/ and not shipped.
const { register } = await import('tsx/esm/api')
register()
await import(process.argv.at(-1))
