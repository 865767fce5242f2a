/**
 * CPU per event of each step between HTTP accept and the topology, on the generator's telemetry
 * (20 000 events as one JSON body), single-threaded and without the server: the steps
 * json-body-parser.ts, telemetry-ingest.ts and the topology's telemetry source run per event.
 * "edge → topology" is the whole chain for one event: body parsed, event validated, serialized for the
 * telemetry topic, decoded by the topology's source (on the embedded log, the bytes the API wrote).
 *
 *   npx tsx bench/sentinel/ingest-steps.ts
 */
import { TelemetryGenerator } from '../../apps/sentinel/generator/index.js'
import { jsonTextDepth } from '../../schemas/json-depth.js'
import { telemetryJsonSerde, validateTelemetryEvent } from '../../schemas/telemetry/index.js'

const events = [...new TelemetryGenerator({ hours: 4, seed: 42 }).events()].slice(0, 20_000)
const body = JSON.stringify(events)
const api = telemetryJsonSerde()
const topology = telemetryJsonSerde()

function perEvent(label: string, step: () => void): void {
  for (let i = 0; i < 2; i++) step()
  const rounds = 5
  const began = performance.now()
  for (let i = 0; i < rounds; i++) step()
  console.log(`${label.padEnd(40)} ${(((performance.now() - began) * 1000) / rounds / events.length).toFixed(2)} µs/event`)
}

perEvent('body nesting depth (text scan)', () => jsonTextDepth(body, 64))
perEvent('JSON.parse of the body', () => JSON.parse(body))
perEvent('validate (fresh objects each round)', () => {
  for (const event of JSON.parse(body) as unknown[]) validateTelemetryEvent(event)
})
perEvent('edge → topology, whole chain', () => {
  jsonTextDepth(body, 64)
  for (const event of JSON.parse(body) as unknown[]) {
    const checked = validateTelemetryEvent(event)
    if (!checked.ok) throw new Error('the generator made an invalid event')
    topology.deserialize(api.serialize(checked.event))
  }
})
