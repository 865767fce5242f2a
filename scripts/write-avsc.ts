/**
 * Writes the .avsc files that are generated from their inlined TS schemas: AlertEvent.avsc (which
 * embeds AnomalyEvent whole, so it must be rewritten when AnomalyEvent changes) and
 * DeliveryRecord.avsc. `npx tsx scripts/write-avsc.ts`; a unit test fails while they differ.
 */
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deliveryRecordSchema } from '../apps/sentinel/delivery/delivery-record-avro.js'
import { alertEventSchema } from '../schemas/alert/alert-event-avro.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const files = [
  ['schemas/alert/AlertEvent.avsc', alertEventSchema],
  ['apps/sentinel/delivery/DeliveryRecord.avsc', deliveryRecordSchema],
] as const
for (const [file, schema] of files) {
  writeFileSync(join(root, file), `${JSON.stringify(schema, null, 2)}\n`)
  console.log(`wrote ${file}`)
}
