// The import rules of src/ (docs/architecture.md), checked by test/architecture/imports.test.ts and
// `npx depcruise src --config .dependency-cruiser.cjs`: no import cycle anywhere, and the one-way
// layering that holds today. Tests beside the code (*.test.ts) may import across layers.
const NOT_TEST = '\\.test\\.ts$'
/** Every folder of src/; a rule lists the ones a layer must not reach. */
const layer = (...names) => `^src/(${names.join('|')})/`

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: split the shared part into its own module (events/event-stream.ts, data/source.ts).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'domain-is-a-leaf',
      comment: 'src/domain/ is the vocabulary every layer shares; it imports nothing of Tandem.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'config-below-everything',
      comment: 'The config definition is read by every layer and reads none of them.',
      severity: 'error',
      from: { path: '^src/config/', pathNot: NOT_TEST },
      to: {
        path: layer(
          'admin',
          'analysis',
          'cli',
          'compare',
          'dashboard',
          'data',
          'demo',
          'events',
          'gateway',
          'instance',
          'metrics',
          'program',
          'rollout',
          'store',
        ),
      },
    },
    {
      name: 'store-below-the-layers',
      comment: 'The store knows the domain vocabulary and nothing of the layers that use it.',
      severity: 'error',
      from: { path: '^src/store/', pathNot: NOT_TEST },
      to: { path: '^src/', pathNot: '^src/(store|domain)/|^src/errors\\.ts$' },
    },
    {
      name: 'gateway-is-the-data-plane',
      comment:
        'The gateway reads the routing table (src/domain/) and hands exchanges to a ComparisonSink; metrics ' +
        'and shadow counts subscribe to its diagnostics channels. It never reaches the control plane or the store.',
      severity: 'error',
      from: { path: '^src/gateway/', pathNot: NOT_TEST },
      to: {
        path: layer(
          'admin',
          'analysis',
          'cli',
          'dashboard',
          'data',
          'demo',
          'events',
          'instance',
          'metrics',
          'program',
          'rollout',
          'store',
        ),
      },
    },
    {
      name: 'gateway-sees-only-the-sink-of-compare',
      severity: 'error',
      from: { path: '^src/gateway/', pathNot: NOT_TEST },
      to: { path: '^src/compare/', pathNot: '^src/compare/sink\\.ts$' },
    },
    {
      name: 'compare-never-imports-the-gateway',
      comment: 'Comparison works on exchanges, wherever they come from (experiment(), the gateway, tests).',
      severity: 'error',
      from: { path: '^src/compare/', pathNot: NOT_TEST },
      to: { path: layer('admin', 'analysis', 'cli', 'gateway', 'instance', 'metrics', 'program', 'rollout') },
    },
    {
      name: 'metrics-follow-the-gateway-channels',
      comment:
        'Metrics learn about requests from gateway/diagnostics.ts only, never from the request path. They write ' +
        "and read every instance's seconds in the store (below every layer) and count comparison results with " +
        "compare's counting vocabulary (compare never imports metrics).",
      severity: 'error',
      from: { path: '^src/metrics/', pathNot: NOT_TEST },
      to: {
        path: '^src/',
        pathNot:
          '^src/(metrics|domain|store)/|^src/gateway/diagnostics\\.ts$' +
          '|^src/compare/(sink|rolling-counts|compare-exchange)\\.ts$',
      },
    },
    {
      name: 'analysis-reads-only',
      comment: 'Verdicts come from the metrics and comparison readers; they decide nothing and store nothing.',
      severity: 'error',
      from: { path: '^src/analysis/', pathNot: NOT_TEST },
      to: { path: layer('admin', 'cli', 'gateway', 'instance', 'program', 'rollout', 'store') },
    },
    {
      name: 'rollout-talks-to-the-gateway-through-the-routing-table',
      severity: 'error',
      from: { path: '^src/rollout/', pathNot: NOT_TEST },
      to: { path: layer('admin', 'cli', 'gateway', 'instance', 'dashboard') },
    },
    {
      name: 'data-and-events-stand-alone',
      comment:
        'The data and event toolkits are libraries of their own (src/index.ts exports them); to follow a ' +
        "system's stage (SPEC 12) they use the flag client of src/flags/ (follow.ts, move.ts) and the domain.",
      severity: 'error',
      from: { path: '^src/(data|events)/', pathNot: NOT_TEST },
      to: {
        path: '^src/',
        pathNot: '^src/(data|events|domain)/|^src/(errors|redact)\\.ts$|^src/flags/(follow|move|clients)\\.ts$',
      },
    },
    {
      name: 'data-and-events-apart',
      severity: 'error',
      from: { path: '^src/data/' },
      to: { path: '^src/events/' },
    },
    {
      name: 'events-and-data-apart',
      severity: 'error',
      from: { path: '^src/events/' },
      to: { path: '^src/data/' },
    },
    {
      name: 'only-the-entry-points-compose',
      comment: 'The composition root (src/instance/) is used by the CLI and the demo only; nothing imports the CLI.',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(cli|demo|instance)/|${NOT_TEST}` },
      to: { path: '^src/(cli|instance|demo)/' },
    },
    {
      name: 'dashboard-is-a-browser-bundle',
      comment: 'The dashboard bundles src/domain/stages.ts; everything else it takes from the server is types only.',
      severity: 'error',
      from: { path: '^src/dashboard/' },
      to: { path: '^src/', pathNot: '^src/dashboard/|^src/domain/stages\\.ts$', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/dashboard/dist/' },
  },
}
