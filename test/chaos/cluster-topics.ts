/**
 * Topics on the multi-broker test cluster, for the fault suite and the soak (bench/soak/): created,
 * then waited for until every replica is in sync and every broker knows them.
 */
import { Kafka, logLevel, type Admin, type ITopicConfig } from 'kafkajs'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Until every partition of `topics` has all its replicas in sync again, as a rolling restart waits
 * between nodes. A topic that does not exist is not waited for: `__transaction_state` is created by
 * the first transaction, so an at-least-once run on a fresh cluster has none, and asking for it
 * failed every metadata request until the timeout (rolling-restart at-least-once gave no verdict).
 */
export async function waitForFullIsr(admin: Admin, topics: readonly string[], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let behind: string[] = ['(no metadata)']
  while (Date.now() < deadline) {
    const existing = await admin.listTopics().catch((e: unknown) => {
      behind = [`listing topics failed: ${(e as Error).message}`]
      return undefined
    })
    const wanted = existing === undefined ? [] : topics.filter((t) => existing.includes(t))
    const metadata =
      existing === undefined
        ? undefined
        : await admin.fetchTopicMetadata({ topics: wanted }).catch((e: unknown) => {
            behind = [`metadata request failed: ${(e as Error).message}`]
            return undefined
          })
    if (metadata) {
      behind = metadata.topics.flatMap((t) =>
        t.partitions
          .filter((p) => p.leader < 0 || p.isr.length < p.replicas.length)
          .map((p) => `${t.name}[${p.partitionId}] leader ${p.leader} isr ${p.isr.join('/')} of ${p.replicas.join('/')}`),
      )
      if (behind.length === 0) return
    }
    await sleep(1_000)
  }
  // Which partitions and which replica: a broker that never came back differs from one slow to catch up.
  throw new Error(
    `replicas of ${topics.join(', ')} not all in sync after ${timeoutMs} ms: ${behind.slice(0, 8).join('; ')}${behind.length > 8 ? ` (+${behind.length - 8} more)` : ''}`,
  )
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
