/**
 * `sentinel-streams reset --application-id X`: the application reprocesses its input from a chosen
 * point on its next start (Kafka Streams' application reset tool). The work is in
 * runtime/kafka/application-reset.ts; this is the command line around it.
 */
import kafkajs from 'kafkajs'
import pino from 'pino'
import { defaultStateDir } from '../../runtime/config.js'
import { applyReset, type ResetPlan, planReset, type ResetTarget } from '../../runtime/kafka/application-reset.js'
import { kafkajsLog } from '../../runtime/kafka/kafkajs-log.js'
import { kafkaSecurityOptions } from '../../runtime/security-config.js'
import { parseCommandArgs, readConfigFile, UsageError } from './command-args.js'
import { loadTopology } from './load-topology.js'
import { chooseRunMode } from './run-mode.js'

const { Kafka, logLevel } = kafkajs

export const RESET_HELP = `Usage: sentinel-streams reset --application-id <id> [options]

Makes the application reprocess its input on its next start: deletes its internal topics
(<id>-*-changelog, <id>-*-repartition), moves its committed offsets on the input topics, and removes
its local state directory (<state-dir>/<id>). Its dead-letter topic (<id>-dlq) is kept. Refuses while
any instance of the application is running. Run it on every machine that held state, or delete their
state directories: a state directory left behind is stale once the changelogs are gone.

Options:
  --application-id <id>       the application to reset (required)
  --to <where>                earliest (default), latest, or an ISO-8601 date-time (2026-01-31T00:00:00Z):
                              the first offset at or after it
  --input-topics <t1,t2>      the input topics whose offsets move (default: every topic, other than
                              internal ones, the application has committed offsets on)
  --topology <topology.ts>    take the internal and input topics from the topology instead of the
                              application-id prefix and the committed offsets
  --brokers <host:port,...>   Kafka bootstrap servers (default: KAFKA_BROKERS, the config's, the local broker)
  --config <file>             the settings file the application runs with (brokers, kafka, stateDir)
  --state-dir <dir>           the application's state directory root
  --dry-run                   print what would be done, change nothing
  -h, --help                  this help`

export async function resetCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('reset', {
    args: argv,
    options: {
      'application-id': { type: 'string' },
      to: { type: 'string' },
      'input-topics': { type: 'string' },
      topology: { type: 'string' },
      brokers: { type: 'string' },
      config: { type: 'string' },
      'state-dir': { type: 'string' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(RESET_HELP)
    return 0
  }
  const applicationId = values['application-id']
  if (!applicationId) throw new UsageError(`reset needs --application-id: the application to reset.\n\n${RESET_HELP}`)
  const to = resetTarget(values.to ?? 'earliest')
  const settings = values.config ? readConfigFile(values.config) : {}
  const mode = chooseRunMode({ standalone: false, flag: values.brokers, env: process.env.KAFKA_BROKERS, config: settings.brokers })
  if (mode.kind !== 'kafka') throw new UsageError('no Kafka brokers: pass --brokers host:9092, set KAFKA_BROKERS, or put brokers in --config')

  let internalTopics: string[] | undefined
  let inputTopics = values['input-topics']?.split(',').map((t) => t.trim()).filter(Boolean)
  if (values.topology) {
    const plan = (await loadTopology(values.topology, { ...settings, applicationId })).topology.plan(applicationId)
    internalTopics = plan.internalTopics.filter((t) => t.role === 'changelog' || t.role === 'repartition').map((t) => t.name)
    inputTopics ??= [...new Set(plan.subtopologies.flatMap((s) => s.userSourceTopics))]
  }

  const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }))
  const kafka = new Kafka({
    ...(settings.kafka ?? {}),
    ...kafkaSecurityOptions(settings.security),
    clientId: `${applicationId}-reset`,
    brokers: mode.brokers,
    logLevel: logLevel.WARN,
    logCreator: () => kafkajsLog({ logger }),
  })
  const admin = kafka.admin()
  await admin.connect()
  try {
    const plan = await planReset(admin, {
      applicationId,
      to,
      stateDir: values['state-dir'] ?? settings.stateDir ?? defaultStateDir(),
      ...(inputTopics ? { inputTopics } : {}),
      ...(internalTopics ? { internalTopics } : {}),
    })
    console.log(describePlan(plan, to, values['dry-run'] === true))
    if (values['dry-run']) {
      console.log('dry run: nothing changed; run again without --dry-run to apply')
      return 0
    }
    await applyReset(admin, plan)
    console.log(`reset done: '${applicationId}' reprocesses from ${describeTarget(to)} on its next start`)
    return 0
  } finally {
    await admin.disconnect()
  }
}

function resetTarget(text: string): ResetTarget {
  if (text === 'earliest' || text === 'latest') return { kind: text }
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN
  if (Number.isNaN(ms)) throw new UsageError(`--to takes earliest, latest or an ISO-8601 date-time such as 2026-01-31T00:00:00Z, got '${text}'`)
  return { kind: 'timestamp', ms }
}

const describeTarget = (to: ResetTarget): string => (to.kind === 'timestamp' ? new Date(to.ms).toISOString() : to.kind)

function describePlan(plan: ResetPlan, to: ResetTarget, dryRun: boolean): string {
  const lines = [`reset of application '${plan.applicationId}'${dryRun ? ' (dry run)' : ''}:`]
  lines.push(plan.deleteTopics.length > 0 ? 'delete internal topics:' : 'delete internal topics: none found')
  for (const topic of plan.deleteTopics) lines.push(`  ${topic}`)
  lines.push(plan.offsets.length > 0 ? `move committed offsets to ${describeTarget(to)}:` : 'move committed offsets: no input topic with committed offsets')
  for (const move of plan.offsets) lines.push(`  ${move.topic}[${move.partition}]: ${move.from ?? 'none'} -> ${move.to}`)
  lines.push(`remove local state: ${plan.stateDirectory ?? 'none on this machine'}`)
  for (const kept of plan.kept) lines.push(`keep: ${kept}`)
  return lines.join('\n')
}
