import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Serde } from '../../../schemas/serde.js'
import { engines } from '../../../state/index.js'
import type { ChangelogRecord, ChangelogSink, EngineStore, StorageEngine, WriteOp } from '../../../state/index.js'

export const stringSerde: Serde<string> = {
  name: 'string',
  serialize: (v) => Buffer.from(v, 'utf8'),
  deserialize: (b) => b.toString('utf8'),
}

export const jsonSerde = <T>(): Serde<T> => ({
  name: 'json',
  serialize: (v) => Buffer.from(JSON.stringify(v)),
  deserialize: (b) => JSON.parse(b.toString()) as T,
})

export const engineCases: [string, () => StorageEngine][] = [
  ['memory', engines.memory],
  ['rocksdb', () => engines.rocksdb()],
  ['leveldb', engines.leveldb],
]

/** A changelog sink that keeps what it was given, per store, in order. */
export class RecordingChangelog implements ChangelogSink {
  readonly records = new Map<string, ChangelogRecord[]>()
  flushes = 0
  append(store: string, key: Buffer, value: Buffer | null): void {
    let list = this.records.get(store)
    if (!list) this.records.set(store, (list = []))
    list.push({ key, value })
  }
  async flush(): Promise<void> {
    this.flushes++
  }
  of(store: string): ChangelogRecord[] {
    return this.records.get(store) ?? []
  }
}

/** Wraps an engine to record every batch written, so tests can check how stores write. */
export function spyEngine(inner: StorageEngine): { engine: StorageEngine; writes: WriteOp[][]; reads: number } {
  const spy = { engine: undefined as unknown as StorageEngine, writes: [] as WriteOp[][], reads: 0 }
  spy.engine = {
    kind: inner.kind,
    destroy: (path) => inner.destroy(path),
    async open(path): Promise<EngineStore> {
      const store = await inner.open(path)
      return {
        path: store.path,
        getMany: (keys) => {
          spy.reads++
          return store.getMany(keys)
        },
        write: (ops) => {
          spy.writes.push([...ops])
          return store.write(ops)
        },
        iterate: (range) => store.iterate(range),
        approximateCount: () => store.approximateCount(),
        close: () => store.close(),
      }
    },
  }
  return spy
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}
