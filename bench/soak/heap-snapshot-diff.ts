/**
 * What a process's V8 heap gained between two heap snapshots of it (`.heapsnapshot` files, e.g. from
 * `--heapsnapshot-signal`): objects present in the later one and not in the earlier one (V8 keeps an
 * object's id across snapshots of one process, and a snapshot is taken after a full collection, so
 * these are objects that were allocated in between and are still retained), grouped by type and
 * constructor name, largest first, with one retainer path for each of the top groups.
 *
 *   node --max-old-space-size=8000 --import tsx bench/soak/heap-snapshot-diff.ts <earlier> <later> [--top 30]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] }; node_count: number }
  nodes: number[]
  edges: number[]
  strings: string[]
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } })
if (positionals.length !== 2) {
  console.error('usage: heap-snapshot-diff.ts <earlier.heapsnapshot> <later.heapsnapshot> [--top 30]')
  process.exit(2)
}
const read = (file: string): Snapshot => JSON.parse(readFileSync(file, 'utf8')) as Snapshot

const earlierIds = (() => {
  const s = read(positionals[0]!)
  const width = s.snapshot.meta.node_fields.length
  const idAt = s.snapshot.meta.node_fields.indexOf('id')
  const ids = new Set<number>()
  for (let i = 0; i < s.nodes.length; i += width) ids.add(s.nodes[i + idAt]!)
  return ids
})()

const later = read(positionals[1]!)
const { meta } = later.snapshot
const width = meta.node_fields.length
const [typeAt, nameAt, idAt, sizeAt, edgeCountAt] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f)) as [
  number,
  number,
  number,
  number,
  number,
]
const edgeWidth = meta.edge_fields.length
const [edgeTypeAt, edgeNameAt, edgeToAt] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f)) as [number, number, number]
const nodeTypes = meta.node_types[0]
const edgeTypes = meta.edge_types[0]
const nodeCount = later.nodes.length / width

// Retainers: for each node, the first (node, edge) pointing to it, from a pass over the edges.
const firstRetainer = new Int32Array(nodeCount).fill(-1)
const firstRetainerEdge = new Int32Array(nodeCount).fill(-1)
for (let n = 0, e = 0; n < nodeCount; n++) {
  const count = later.nodes[n * width + edgeCountAt]!
  for (let k = 0; k < count; k++, e += edgeWidth) {
    const to = later.edges[e + edgeToAt]! / width
    const type = edgeTypes[later.edges[e + edgeTypeAt]!]
    if (type === 'weak' || firstRetainer[to] !== -1) continue
    firstRetainer[to] = n
    firstRetainerEdge[to] = e
  }
}
const label = (n: number): string => `${nodeTypes[later.nodes[n * width + typeAt]!]}:${later.strings[later.nodes[n * width + nameAt]!]!.slice(0, 60)}`
const path = (n: number): string => {
  const steps: string[] = []
  for (let cur = n, depth = 0; cur !== -1 && depth < 12; depth++) {
    const r = firstRetainer[cur]!
    if (r === -1) break
    const e = firstRetainerEdge[cur]!
    const type = edgeTypes[later.edges[e + edgeTypeAt]!]
    const name = type === 'element' || type === 'hidden' ? `[${later.edges[e + edgeNameAt]}]` : String(later.strings[later.edges[e + edgeNameAt]!]).slice(0, 40)
    steps.push(`${label(r)} .${name}`)
    cur = r
  }
  return steps.join(' <- ')
}

const groups = new Map<string, { count: number; bytes: number; example: number }>()
let newCount = 0
let newBytes = 0
for (let n = 0; n < nodeCount; n++) {
  if (earlierIds.has(later.nodes[n * width + idAt]!)) continue
  const key = label(n)
  const size = later.nodes[n * width + sizeAt]!
  newCount++
  newBytes += size
  const g = groups.get(key)
  if (g) {
    g.count++
    g.bytes += size
  } else groups.set(key, { count: 1, bytes: size, example: n })
}
const totalBytes = (() => {
  let t = 0
  for (let n = 0; n < nodeCount; n++) t += later.nodes[n * width + sizeAt]!
  return t
})()
console.log(
  `later: ${nodeCount} objects, ${(totalBytes / 2 ** 20).toFixed(1)} MiB; new since earlier: ${newCount} objects, ${(newBytes / 2 ** 20).toFixed(1)} MiB`,
)
const top = [...groups].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, Number(values.top))
for (const [key, g] of top) {
  console.log(`${(g.bytes / 1024).toFixed(0).padStart(8)} KiB ${String(g.count).padStart(8)}  ${key}`)
  console.log(`           e.g. ${path(g.example)}`)
}
