import { readFileSync } from 'node:fs'

/** glibc's heap for threads other than the first: one 64 MiB-aligned mapping each (HEAP_MAX_SIZE). */
const ARENA_BYTES = 64 * 1024 * 1024
const mib = (bytes: number): number => bytes / (1024 * 1024)

export interface GlibcHeaps {
  /** Resident MiB of glibc's main heap (`[heap]`, the first thread's arena: the JS thread's mallocs). */
  mainHeap: number
  /** Resident MiB of the other threads' arenas (rocksdb-native runs on libuv's pool threads). */
  arenas: number
  /**
   * Resident MiB of the other anonymous mappings: V8's heap, and malloc blocks at or over the mmap
   * threshold, each mapped on its own (with `MALLOC_MMAP_THRESHOLD_` set: memtable blocks among them).
   */
  otherAnonymous: number
  /** Resident MiB of file-backed mappings (the node binary, the native addons, shared libraries). */
  files: number
}

/**
 * Where a process's malloc memory sits, from /proc/<pid>/smaps: the main heap, and the thread arenas
 * (anonymous mappings inside one 64 MiB-aligned window that starts with an anonymous mapping of at
 * most 64 MiB). V8's heap is anonymous too but reserved in larger, differently aligned regions, so it
 * lands in neither. An estimate for finding what grows, not an accounting.
 */
export function glibcHeaps(pid: number | 'self' = 'self'): GlibcHeaps {
  const maps: { a: number; b: number; path: string; rss: number }[] = []
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (m) maps.push({ a: parseInt(m[1]!, 16), b: parseInt(m[2]!, 16), path: m[3]!, rss: 0 })
    else if (line.startsWith('Rss:') && maps.length > 0) maps[maps.length - 1]!.rss = Number(line.split(/\s+/)[1]) * 1024
  }
  const anonymousAt = new Map(maps.filter((m) => m.path === '').map((m) => [m.a, m]))
  let mainHeap = 0
  let arenas = 0
  let otherAnonymous = 0
  let files = 0
  for (const m of maps) {
    if (m.path === '[heap]') mainHeap += m.rss
    else if (m.path.startsWith('/')) files += m.rss
    else if (m.path === '') {
      const owner = anonymousAt.get(m.a - (m.a % ARENA_BYTES))
      const oneWindow = Math.floor((m.b - 1) / ARENA_BYTES) === Math.floor(m.a / ARENA_BYTES)
      if (owner && owner.b - owner.a <= ARENA_BYTES && oneWindow) arenas += m.rss
      else otherAnonymous += m.rss
    } else otherAnonymous += m.rss
  }
  return { mainHeap: mib(mainHeap), arenas: mib(arenas), otherAnonymous: mib(otherAnonymous), files: mib(files) }
}
