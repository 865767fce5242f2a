/** A synchronous read of a key the cache does not know: a bug in the caller's prefetching, never data. */
export class StoreMissError extends Error {
  constructor(
    readonly store: string,
    what: string,
  ) {
    super(
      `store "${store}": ${what} is not in the record cache. Synchronous reads only see keys prefetched for the ` +
        `current batch (store.prefetch(keys)) or written since; prefetch it before the batch is processed.`,
    )
    this.name = 'StoreMissError'
  }
}
