/**
 * The partition of a keyed record, exactly as the producer picks it: kafkajs' DefaultPartitioner
 * (murmur2 of the key bytes, as the Java client), which is what the runtime's record collector leaves
 * keyed records to. Interactive queries use it to find a key's task; it must never drift from the
 * producer's choice, hence the producer's own function rather than a copy of murmur2.
 */
import kafkajs, { type PartitionMetadata } from 'kafkajs'

// kafkajs is CommonJS; Node's static analysis does not see this export.
const { Partitioners } = kafkajs

const defaultPartitioner = Partitioners.DefaultPartitioner()
/** The partitioner only reads the count and the leaders: one fake metadata list per partition count. */
const metadataByCount = new Map<number, PartitionMetadata[]>()

/** The partition (0 .. partitionCount-1) a record with these key bytes goes to. */
export function partitionOfKey(key: Buffer, partitionCount: number): number {
  if (!(Number.isInteger(partitionCount) && partitionCount >= 1)) throw new Error(`partition count must be a positive integer, got ${partitionCount}`)
  if (partitionCount === 1) return 0
  let partitionMetadata = metadataByCount.get(partitionCount)
  if (!partitionMetadata) {
    partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }))
    metadataByCount.set(partitionCount, partitionMetadata)
  }
  return defaultPartitioner({ topic: '', partitionMetadata, message: { key, value: null } })
}

/** A record was given a partition its topic does not have. */
export class UnknownPartitionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UnknownPartitionError'
  }
}

/**
 * Where a record goes in an in-process log (standalone runtime, test driver), as the producer
 * decides on Kafka: an explicit partition (checked), round robin per topic for a null key, else
 * `partitionOfKey`.
 */
export class RecordPartitioner {
  private readonly roundRobin = new Map<string, number>()

  partition(topic: string, count: number, key: Buffer | null, explicit: number | undefined): number {
    if (explicit !== undefined) {
      if (!(Number.isInteger(explicit) && explicit >= 0 && explicit < count)) {
        throw new UnknownPartitionError(`partition ${explicit} does not exist in topic '${topic}' (${count} partitions)`)
      }
      return explicit
    }
    if (count === 1) return 0
    if (key === null) {
      const next = this.roundRobin.get(topic) ?? 0
      this.roundRobin.set(topic, next + 1)
      return next % count
    }
    return partitionOfKey(key, count)
  }
}
