import { test } from 'node:test'
import assert from 'node:assert/strict'
import { STREAM_THREAD_FETCH } from '../../../runtime/kafka/fetch-limits.js'

/** kafkajs' own `maxBytes` when a consumer sets none (node_modules/kafkajs/src/consumer/index.js). */
const KAFKAJS_DEFAULT_MAX_BYTES = 10 * 1024 * 1024

test('one fetch response has room for a full batch of each partition of a 4-partition app with a repartition topic (8), and up to 25', () => {
  // A broker serves partitions in request order up to the response's limit; the rest get nothing
  // and fall behind by whole batches of event time (the peers bench's late records, fetch-limits.ts).
  const limits: { maxBytes?: number; maxBytesPerPartition: number } = STREAM_THREAD_FETCH
  const served = Math.floor((limits.maxBytes ?? KAFKAJS_DEFAULT_MAX_BYTES) / limits.maxBytesPerPartition)
  assert.ok(served >= 8, `a fetch serves ${served} partitions in full`)
  assert.equal(served, 25)
})
