/**
 * One Node contender of the peers bench, in its own process so that its peak RSS and its warm-up
 * are its own:
 *
 *   tsx bench/peers/node-runner.ts --mode project-alos|project-eos|kafkajs --workload a|b --input T --output T --events N --passes P
 *
 * Prints "PASS <n> events_per_s=<x>" per pass (pass 1 cold, later passes warm: same process, a new
 * application id over the same input) and "PEAK_RSS_KB <kb>" from /proc/self/status, as the Java
 * peers do.
 */
// First, as the runtime's entry points: kafkajs must load with the project's replacements.
import '../../runtime/kafka/kafkajs-replacements.js'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import kafkajs from 'kafkajs'
import { resolveBrokers } from '../../runtime/local-broker.js'
import { rawConsumeRate } from '../runtime/raw-consume.js'
import { topologyRate } from '../runtime/topology-rate.js'
import { detectionTopology } from './detection-workload.js'

const MODES = ['project-alos', 'project-eos', 'kafkajs'] as const
type Mode = (typeof MODES)[number]

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    input: { type: 'string' },
    output: { type: 'string' },
    events: { type: 'string' },
    passes: { type: 'string', default: '2' },
    workload: { type: 'string', default: 'a' },
  },
})
const mode = values.mode as Mode
if (!MODES.includes(mode)) throw new Error(`--mode must be one of ${MODES.join(', ')}, got ${values.mode}`)
if (!values.input || !values.output || !values.events) throw new Error('--input, --output and --events are required')
const brokers = resolveBrokers()
if (!brokers) throw new Error('no broker: set KAFKA_BROKERS')
const events = Number(values.events)
if (values.workload !== 'a' && values.workload !== 'b') throw new Error(`--workload must be a or b, got ${values.workload}`)
const workload = values.workload === 'b' ? { topology: detectionTopology } : {}

for (let pass = 1; pass <= Number(values.passes); pass++) {
  const rate =
    mode === 'kafkajs'
      ? await rawConsumeRate(new kafkajs.Kafka({ clientId: 'bench-raw', brokers, logLevel: kafkajs.logLevel.NOTHING }), values.input, events)
      : await topologyRate({ brokers, input: values.input, output: values.output, events, processingGuarantee: mode === 'project-eos' ? 'exactly-once' : 'at-least-once', ...workload })
  console.log(`PASS ${pass} events_per_s=${Math.round(rate)}`)
}
const peak = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))
console.log(`PEAK_RSS_KB ${peak ? peak[1] : -1}`)
process.exit(0)
