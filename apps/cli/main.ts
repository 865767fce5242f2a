#!/usr/bin/env node
/**
 * `sentinel-streams run topology.ts` — runs a topology file on Kafka, no build step.
 * `sentinel-streams describe topology.ts` — prints the topology's description.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import pino from 'pino'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { parse as parseYaml } from 'yaml'
import { ConfigError, type StreamsConfig } from '../../runtime/config.js'
import { resolveBrokers } from '../../runtime/local-broker.js'
import { SentinelStreams } from '../../runtime/kafka/sentinel-streams.js'
import { loadTopology, TopologyFileError } from './load-topology.js'

const HELP = {
  main: `Usage: sentinel-streams <command> [options]

Commands:
  run <topology.ts>        run a topology on Kafka
  describe <topology.ts>   print the topology's sub-topologies, processors, stores and topics

Run 'sentinel-streams <command> --help' for a command's options.`,
  run: `Usage: sentinel-streams run <topology.ts> [options]

The file's default export is a Topology (builder.build()) or a function (config) => Topology;
it may export \`config\` with defaults for any option below.

Options:
  --brokers <host:port,...>   Kafka bootstrap servers (default: KAFKA_BROKERS, or the broker of npm run kafka:start)
  --application-id <id>       consumer group and internal topic prefix (required unless the file's config sets it)
  --state-dir <dir>           local state directory
  --config <file>             a JSON or YAML file of settings (applicationId, processingGuarantee, commitIntervalMs, ...)
  --processing-guarantee <g>  at-least-once (default) or exactly-once
  --metrics-port <port>       serve Prometheus metrics on http://0.0.0.0:<port>/metrics
  --log-level <level>         pino level (default info)
  -h, --help                  this help`,
  describe: `Usage: sentinel-streams describe <topology.ts>

Prints the topology as Kafka Streams' Topology#describe() does.`,
} as const

class UsageError extends Error {}

function readConfigFile(path: string): Partial<StreamsConfig> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw new UsageError(`config file not found: ${path}`)
  }
  const parsed: unknown = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  if (typeof parsed !== 'object' || parsed === null) throw new UsageError(`config file ${path} must hold an object of settings`)
  return parsed as Partial<StreamsConfig>
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      brokers: { type: 'string' },
      'application-id': { type: 'string' },
      'state-dir': { type: 'string' },
      config: { type: 'string' },
      'processing-guarantee': { type: 'string' },
      'metrics-port': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(HELP.run)
    return 0
  }
  const file = positionals[0]
  if (!file) throw new UsageError(`missing the topology file.\n\n${HELP.run}`)

  const flags: Partial<StreamsConfig> = {
    ...(values.config ? readConfigFile(values.config) : {}),
    ...(values['application-id'] ? { applicationId: values['application-id'] } : {}),
    ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
    ...(values['processing-guarantee'] ? { processingGuarantee: values['processing-guarantee'] as StreamsConfig['processingGuarantee'] } : {}),
  }
  const loaded = await loadTopology(file, flags)
  const brokers = resolveBrokers(values.brokers ?? (loaded.config.brokers as string | string[] | undefined))
  if (!brokers) throw new UsageError('no Kafka brokers: pass --brokers host:port, set KAFKA_BROKERS, or start a local broker with `npm run kafka:start`')
  const config = { ...loaded.config, brokers } as StreamsConfig
  if (!config.applicationId) throw new UsageError('no application id: pass --application-id, or export `config = { applicationId }` from the topology file')

  const logger = pino({ level: values['log-level'] ?? process.env.SENTINEL_LOG_LEVEL ?? 'info' }, pino.destination(2))
  const registry = new Registry()
  const streams = new SentinelStreams(loaded.topology, config, { logger, metrics: registry })

  const metricsServer = values['metrics-port'] ? await serveMetrics(registry, Number(values['metrics-port'])) : undefined
  if (metricsServer) logger.info({ port: Number(values['metrics-port']) }, 'serving Prometheus metrics on /metrics')

  const stopped = new Promise<number>((resolve) => {
    let signals = 0
    const onSignal = (signal: NodeJS.Signals): void => {
      if (++signals > 1) {
        logger.warn({ signal }, 'second signal: exiting without a clean shutdown')
        process.exit(1)
      }
      logger.info({ signal }, 'shutting down: stop fetching, flush, commit, leave the group')
      void streams.close().then(() => resolve(0))
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    streams.onStateChange((next) => {
      if (next === 'error') void streams.close().then(() => resolve(1))
    })
  })
  await streams.start()
  const code = await stopped
  await metricsServer?.close()
  return code
}

async function serveMetrics(registry: Registry, port: number): Promise<{ close(): Promise<unknown> }> {
  collectDefaultMetrics({ register: registry })
  const server = Fastify()
  server.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
  await server.listen({ port, host: '0.0.0.0' })
  return server
}

async function describe(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } })
  if (values.help) {
    console.log(HELP.describe)
    return 0
  }
  const file = positionals[0]
  if (!file) throw new UsageError(`missing the topology file.\n\n${HELP.describe}`)
  const { topology } = await loadTopology(file)
  console.log(topology.describe())
  return 0
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'run':
        return await run(rest)
      case 'describe':
        return await describe(rest)
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        console.log(HELP.main)
        return command === undefined ? 2 : 0
      default:
        throw new UsageError(`unknown command '${command}'.\n\n${HELP.main}`)
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof TopologyFileError || e instanceof ConfigError) {
      console.error(`sentinel-streams: ${e.message}`)
      return 2
    }
    console.error(`sentinel-streams: ${(e as Error).message}`)
    return 1
  }
}

// kafkajs leaves timers behind after disconnect; the command is done, so the process is too.
process.exit(await main(process.argv.slice(2)))
