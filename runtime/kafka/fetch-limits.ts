/**
 * Fetch sizes of the stream thread's consumer. A broker fills a fetch response partition by
 * partition, in request order, until the response's byte limit; the partitions after that get
 * nothing in that fetch. With kafkajs' default limit (10 MB) and 2 MB per partition only five
 * partitions got data per fetch, so with a backlog the others fell behind by whole batches: in the
 * peers bench (4 input partitions, a repartition topic of 4, 200 s of event time) one input
 * partition ran ~95 s of event time ahead of another, the repartition topic interleaved their
 * records that far apart, and a window with 60 s grace downstream dropped 28% of them as late
 * (bench/peers/README.md). 50 MB is the Java consumer's default (`fetch.max.bytes`): a full batch
 * of up to 25 partitions per fetch. It bounds the event-time skew between partitions only as far
 * as the fetches do; a thread with more partitions, or a backlog far wider than the grace, can
 * still drop records as late, as in Kafka Streams.
 *
 * The fetch wait is short because kafkajs, when every partition is paused (each restore, at start
 * and after every rebalance, pauses its task's partitions), sleeps the whole wait before it looks
 * again: resumed partitions sat idle for up to that long. With 500 ms a fresh instance of the
 * peers bench's windowed aggregate took 660-880 ms from `running` to its first processed batch,
 * with 100 ms 270-470 ms, the rest being the first fetch itself (bench/peers/README.md). A fetch
 * with data returns at once whatever the wait (min bytes 1), so the cost is only more empty fetch
 * requests on an idle topic (10 a second instead of 2). It also keeps heartbeats going during a
 * restore.
 */
export const STREAM_THREAD_FETCH = {
  maxWaitTimeInMs: 100,
  maxBytesPerPartition: 2 * 1024 * 1024,
  maxBytes: 50 * 1024 * 1024,
} as const
