/**
 * The final value per key of a results topic, read committed: what the bench compares between the
 * project and Kafka Streams. Read until nothing new arrived for `quietMs` (the writers have stopped
 * by then; the quiet time only lets the last fetch come back).
 */
import { randomBytes } from 'node:crypto'
import type { Kafka } from 'kafkajs'

export async function finalValues(kafka: Kafka, topic: string, quietMs = 3_000): Promise<Map<string, string>> {
  const consumer = kafka.consumer({ groupId: `bench-final-${randomBytes(4).toString('hex')}`, readUncommitted: false })
  const values = new Map<string, string>()
  let lastArrival = Date.now()
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) values.set(m.key?.toString() ?? '', m.value?.toString() ?? '')
        if (batch.messages.length > 0) lastArrival = Date.now()
      },
    })
    while (Date.now() - lastArrival < quietMs || values.size === 0) {
      if (Date.now() - lastArrival > 60_000) break
      await new Promise((r) => setTimeout(r, 200))
    }
  } finally {
    await consumer.disconnect()
  }
  return values
}

/**
 * Keys whose final values differ. A value is one number or numbers joined by ':'; each is compared as
 * a number, since Java and JavaScript print the same double differently ("512.0" and "512").
 */
export function differences(expected: Map<string, string>, actual: Map<string, string>): string[] {
  const keys = new Set([...expected.keys(), ...actual.keys()])
  return [...keys].filter((key) => !sameNumbers(expected.get(key), actual.get(key)))
}

function sameNumbers(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false
  const [xs, ys] = [a.split(':').map(Number), b.split(':').map(Number)]
  return xs.length === ys.length && xs.every((x, i) => x === ys[i] || (Number.isNaN(x) && Number.isNaN(ys[i]!)))
}
