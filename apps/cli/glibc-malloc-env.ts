/**
 * glibc malloc settings for an instance's process, read by glibc once at process start (so they can
 * only be given to a process about to start: the image's ENV, the `--threads` workers, the soak).
 *
 * Why: glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB), after
 * which blocks that size come from the heaps and arenas instead, and freed heap memory goes back to
 * the system only from a heap's top. An instance allocates large blocks in bursts: kafkajs fetch
 * buffers on the JS thread, RocksDB memtable blocks (writeBufferSize / 8) on libuv's pool threads,
 * both peaking when tasks move in on a rebalance (restores). With the dynamic threshold each burst
 * left its high-water mark behind (the soak's RSS rising in a step at every restart of another
 * instance: bench/soak/results/README.md, "Where the 3-instance growth is"). Setting either value
 * turns the dynamic adjustment off, so blocks of 128 KiB and more are mapped on their own and
 * unmapped when freed; the values are glibc's own starting defaults.
 */
export const GLIBC_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
}

/** The settings `env` does not set itself (an operator's own values win), to add to a child's environment. */
export function missingGlibcMallocEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(GLIBC_MALLOC_ENV).filter(([name]) => env[name] === undefined))
}
