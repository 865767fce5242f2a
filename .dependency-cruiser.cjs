/**
 * The layer rule, enforced in `npm run check`: imports go one way only,
 *
 *   schemas ← state ← topology ← runtime | operators ← apps
 *
 * (bench/, scripts/, examples/ and test/ may use any layer; nothing in the library uses them), and
 * there are no import cycles anywhere. See CONTRIBUTING.md.
 */
const LIBRARY = '^(schemas|state|topology|runtime|operators)/'
// The package's entry points (package.json `exports`).
const ENTRIES = '^(index|testing|detectors|registry|sentinel)\\.ts$'
const below = {
  schemas: '^(state|topology|runtime|operators|apps)/',
  state: '^(topology|runtime|operators|apps)/',
  topology: '^(runtime|operators|apps)/',
  runtime: '^(operators|apps)/',
  operators: '^(runtime|apps)/',
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle ties its modules into one: break it by moving the shared piece down a layer.',
      from: {},
      // The one exception: the DSL's stream types return one another (KStream.groupBy() is a
      // KGroupedStream, whose count() is a KTable, whose toStream() is a KStream), as in Kafka
      // Streams; none of them touches another while its module loads.
      to: { circular: true, viaOnly: { pathNot: '^topology/(kstream|ktable|kgrouped-stream)\\.ts$' } },
    },
    ...Object.entries(below).map(([layer, forbidden]) => ({
      name: `${layer}-imports-one-way`,
      severity: 'error',
      comment: `${layer}/ may only import layers below it (schemas ← state ← topology ← runtime | operators ← apps).`,
      from: { path: `^${layer}/` },
      to: { path: forbidden },
    })),
    {
      name: 'library-uses-no-tools',
      severity: 'error',
      comment: 'The library and the app do not import benches, scripts, examples or tests.',
      from: { path: `${LIBRARY}|^apps/|${ENTRIES}` },
      to: { path: '^(bench|scripts|examples|test)/' },
    },
    {
      name: 'public-index-is-the-library',
      severity: 'error',
      comment: "The package's library entries export the library only; the app has its own entry (sentinel.ts).",
      from: { path: '^(index|testing|detectors|registry)\\.ts$' },
      to: { path: '^apps/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
}
