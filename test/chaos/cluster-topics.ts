/**
 * Topics on the multi-broker test cluster, for the fault suite and the soak (bench/soak/): created,
 * then waited for until every replica is in sync and every broker knows them.
 */
import { Kafka, logLevel, type Admin, type ITopicConfig } from 'kafkajs'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Until every partition of `topics` has all its replicas in sync again, as a rolling restart waits between nodes. */
export async function waitForFullIsr(admin: Admin, topics: readonly string[], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const metadata = await admin.fetchTopicMetadata({ topics: [...topics] }).catch(() => undefined)
    if (metadata?.topics.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length))) return
    await sleep(1_000)
  }
  throw new Error(`replicas of ${topics.join(', ')} not all in sync after ${timeoutMs} ms`)
}

/**
 * Creates the topics and waits until every broker lists them: each KRaft broker replays the metadata
 * log on its own, and for seconds after a creation one may know a topic that another does not (an
 * instance asking that one is told the topic does not exist).
 */
export async function createTopicsOnEveryBroker(admin: Admin, bootstrap: string, topics: ITopicConfig[]): Promise<void> {
  const names = topics.map((t) => t.topic)
  await admin.createTopics({ waitForLeaders: false, topics })
  await waitForFullIsr(admin, names, 60_000)
  for (const broker of bootstrap.split(',')) {
    const one = new Kafka({ clientId: 'chaos-probe', brokers: [broker], logLevel: logLevel.NOTHING }).admin()
    await one.connect()
    const deadline = Date.now() + 60_000
    for (;;) {
      const known = new Set(await one.listTopics())
      if (names.every((t) => known.has(t)) || Date.now() > deadline) break
      await sleep(250)
    }
    await one.disconnect()
  }
}
