/** What every DSL object shares: the graph it adds to and the nodes it stands for. */
import type { Serde } from '../schemas/serde.js'
import type { TopologyGraph } from './graph.js'
import type { ProcessorSupplier } from './processor.js'

export interface Named {
  /** Fixes the operator's name (and the names of topics and stores derived from it). */
  name?: string
}

export class DslContext {
  readonly repartitionPartitions = new Map<string, number>()
  constructor(readonly graph: TopologyGraph) {}

  addProcessor<KIn, VIn, KOut, VOut>(
    name: string,
    parents: readonly string[],
    supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>,
    stores: readonly string[] = [],
  ): string {
    this.graph.addNode({
      kind: 'processor',
      name,
      parents,
      supplier: supplier as unknown as ProcessorSupplier<unknown, unknown, unknown, unknown>,
      stores,
    })
    return name
  }

  /** Source nodes upstream of `node` (for co-partitioning checks of joins). */
  sourcesOf(node: string): string[] {
    const out = new Set<string>()
    const visit = (name: string): void => {
      const def = this.graph.nodes.get(name)
      if (!def) return
      if (def.kind === 'source') out.add(name)
      for (const p of def.parents) visit(p)
    }
    visit(node)
    return [...out]
  }
}

export function requireSerde<T>(
  serde: Serde<T> | undefined,
  operator: string,
  what: 'key' | 'value',
  why: string,
  fix = `pass { ${what}: Serdes.<type>() } to this operator`,
): Serde<T> {
  if (serde === undefined) throw new Error(`${operator}: the ${what} serde is unknown (${why}); ${fix}`)
  return serde
}
