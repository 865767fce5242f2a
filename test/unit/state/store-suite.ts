import { describe, before, after } from 'node:test'
import fc from 'fast-check'
import { createRecordCache } from '../../../state/index.js'
import type { StorageEngine, StoreOpenContext } from '../../../state/index.js'
import { RecordingChangelog, engineCases, tempDir } from './fixtures.js'

/** What a typed-store suite gets for the engine it runs on. */
export interface StoreSuite {
  engineName: string
  makeEngine: () => StorageEngine
  /**
   * A fresh task (its own directory under the suite's temp dir) with a 1 MiB cache and a recording
   * changelog, unless overridden.
   */
  context: (overrides?: Partial<StoreOpenContext>) => StoreOpenContext
  /**
   * A fast-check property over sequences of up to 40 ops, each run on a fresh task whose cache has a
   * random budget of 0..`maxBudget` bytes (so evictions happen) and whose changelog records. Fewer
   * runs on the disk engines (slower); `STATE_PROPERTY_RUNS` overrides.
   */
  checkOps: <Op>(
    opArb: fc.Arbitrary<Op>,
    maxBudget: number,
    property: (ops: Op[], ctx: StoreOpenContext, changelog: RecordingChangelog) => Promise<void>,
  ) => Promise<void>
}

/** Declares `<title> on <engine>` for every engine; the suite's temp dir is removed after it. */
export function describeOnEngines(title: string, dirPrefix: string, body: (suite: StoreSuite) => void): void {
  for (const [engineName, makeEngine] of engineCases) {
    describe(`${title} on ${engineName}`, () => {
      let dir: Awaited<ReturnType<typeof tempDir>>
      let run = 0
      before(async () => {
        dir = await tempDir(`${dirPrefix}-${engineName}-`)
      })
      after(() => dir.remove())
      const context = (overrides: Partial<StoreOpenContext> = {}): StoreOpenContext => ({
        applicationId: 'app',
        taskId: `0_${run++}`,
        stateDir: dir.path,
        engine: makeEngine(),
        cache: createRecordCache(1 << 20),
        changelog: new RecordingChangelog(),
        ...overrides,
      })
      const checkOps: StoreSuite['checkOps'] = (opArb, maxBudget, property) =>
        fc.assert(
          fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), fc.integer({ min: 0, max: maxBudget }), async (ops, budget) => {
            const changelog = new RecordingChangelog()
            await property(ops, context({ cache: createRecordCache(budget), changelog }), changelog)
          }),
          { numRuns: Number(process.env.STATE_PROPERTY_RUNS ?? (engineName === 'memory' ? 150 : 30)) },
        )
      body({ engineName, makeEngine, context, checkOps })
    })
  }
}
