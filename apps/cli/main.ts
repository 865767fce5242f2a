#!/usr/bin/env node
/**
 * `sentinel-streams run topology.ts` — runs a topology file, no build step: on Kafka when brokers are
 * configured, otherwise standalone (one process, embedded log, RocksDB state).
 * `sentinel-streams describe topology.ts` — prints the topology's description.
 */
// First: kafkajs must load with this project's replacements of some of its modules (see the module).
import '../../runtime/kafka/kafkajs-replacements.js'
import cluster from 'node:cluster'
import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import type pino from 'pino'
import { collectDefaultMetrics, Registry } from 'prom-client'
import type { StreamsConfig } from '../../runtime/config.js'
import { Readiness } from '../../runtime/readiness.js'
import { SentinelStreams } from '../../runtime/kafka/sentinel-streams.js'
import { pipeJsonLines } from '../../runtime/standalone/json-lines.js'
import { StandaloneStreams } from '../../runtime/standalone/standalone-streams.js'
import type { StreamsRuntime } from '../../runtime/streams-runtime.js'
import type { TopologyPlan } from '../../topology/topology.js'
import { parseCommandArgs, readConfigFile, UsageError } from './command-args.js'
import { loadTopology, type RunningServices } from './load-topology.js'
import { serveOperationsPorts } from './operations-server.js'
import { packageVersion } from './package-version.js'
import { printRecords, topicSerdes } from './record-printer.js'
import { resetCommand } from './reset-command.js'
import { superviseThreads, threadCount } from './thread-supervisor.js'
import { joinWhenSupervisorSays, reportToSupervisor, threadConfig, threadIdentity } from './thread-worker.js'
import { chooseRunMode, STANDALONE_NOTICE } from './run-mode.js'
import { cliLogger, exitCodeOf, logStartFailure, logUncaught, withoutSecrets } from './start-failure.js'
import { isChildOfTsxCli, runBelowTsx } from './tsx-parent.js'

const HELP = {
  main: `Usage: sentinel-streams <command> [options]

Commands:
  run <topology.ts>        run a topology: on Kafka when brokers are configured, otherwise standalone
  describe <topology.ts>   print the topology's sub-topologies, processors, stores and topics
  reset --application-id   make an application reprocess its input: delete its internal topics,
                           move its committed offsets, remove its local state

Options:
  -h, --help      this help
  -v, --version   the installed version

Run 'sentinel-streams <command> --help' for a command's options.`,
  run: `Usage: sentinel-streams run <topology.ts> [options] [-- <args for the file's services>]

The file's default export is a Topology (builder.build()) or a function (config, { logger, metrics }) => Topology;
it may export \`config\` with defaults for any option below, and \`services\`, an async function
({ runtime, config, logger, metrics, args }) => ({ close }) started beside the running topology
(an HTTP API, an alert dispatcher) and closed before it on shutdown.

Mode: Kafka when brokers come from --brokers, KAFKA_BROKERS, the config's \`brokers\`, or a running
broker of \`npm run kafka:start\`. With none of them (or with --standalone) the topology runs
standalone: every task in this process over an embedded in-memory log, state in RocksDB under
--state-dir. Standalone is for development, edge and small installs: it does not scale out, and a
crash loses the records the in-memory log held (state committed to disk survives a restart).

Options:
  --brokers <host:port,...>   Kafka bootstrap servers
  --standalone                run standalone even if brokers are configured
  --application-id <id>       consumer group and internal topic prefix (required unless the file's config sets it)
  --application-server <h:p>  this instance's address for interactive queries (config applicationServer)
  --state-dir <dir>           local state directory
  --config <file>             a JSON or YAML file of settings (applicationId, commitIntervalMs, storeEngine, ...)
  --processing-guarantee <g>  at-least-once (default) or exactly-once (Kafka only)
  --create-missing-topics <n> create missing source and output topics at start with n partitions
                              (config createMissingTopics; without it a missing topic stops the start)
  --auto-offset-reset <where> earliest (default) or latest: where sources without committed offsets start
  --input <file.jsonl|->      pipe a JSON Lines file (or stdin: -) into --input-topic, one record per line
  --input-topic <topic>       the topic --input feeds (default: the topology's source topic, if it has one)
  --key-field <field>         with --input: the record key is this top-level field of each line
  --exit-after-input          with --input: shut down and exit once it is processed (standalone) or sent (Kafka)
  --print <topic>             print the topic's records to stdout as JSON lines (repeatable), decoded
                              with the topology's serdes for the topic (Avro prints as records); a topic
                              the topology does not name prints JSON as JSON, text as a string, bytes as base64
  --threads <n|auto>          run n stream threads (auto: one per core), each a process of its own in the
                              application's consumer group with its own state under <state-dir>/thread-<i>
                              and 1/n of cacheMaxBytes; crashed threads restart; the ports below serve
                              all of them (Kafka only; default 1: one process)
  --metrics-port <port>       serve Prometheus metrics on http://0.0.0.0:<port>/metrics
  --health-port <port>        serve /health (200 unless the topology failed) and /ready (200 once running,
                              and through the rebalances after; 503 while starting or shutting down)
  --log-level <level>         pino level (default info; logs go to stderr)
  -h, --help                  this help`,
  describe: `Usage: sentinel-streams describe <topology.ts>

Prints the topology as Kafka Streams' Topology#describe() does.`,
} as const

/**
 * One Ctrl-C can reach this process more than once: the terminal signals the whole process group,
 * and a parent launcher (tsx, npm exec) relays the signal it got as well. A repeat within this window
 * is that same Ctrl-C; a signal after it is the user insisting, and exits at once.
 */
const REPEATED_SIGNAL_WINDOW_MS = 1000

function partitionCount(text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || !(n >= 1 && n <= 10_000)) throw new UsageError(`--create-missing-topics needs a partition count from 1 to 10000, got '${text}'`)
  return n
}

/** How far a run got: the logger to report a failure with, and whether the topology had started. */
interface RunProgress {
  logger: pino.Logger | undefined
  /** The topology (and the file's services) were started, or began to, and have been closed again. */
  closed: boolean
  /** The start is over: the topology and the services run. */
  started: boolean
}

/**
 * `run`, with every way it can fail to start logged as one error line (start-failure.ts) before
 * main() prints the plain message. A failure once started is not thrown: it shuts down and returns
 * its code, and what failed logs it (the runtime, feedInput).
 */
async function run(argv: string[]): Promise<number> {
  const progress: RunProgress = { logger: undefined, closed: false, started: false }
  // Node would print the stack and exit 1: the same exit, with the cause in the JSON log as well.
  const onUncaught = (e: unknown): void => {
    logUncaught(progress.logger ?? cliLogger(), e, progress.started)
    console.error(`sentinel-streams: ${(e as Error).message ?? String(e)}`)
    process.exit(1)
  }
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUncaught)
  try {
    return await runTopology(argv, progress)
  } catch (e) {
    logStartFailure(progress.logger ?? cliLogger(), e, { exitCode: exitCodeOf(e), closed: progress.closed })
    throw e
  }
}

async function runTopology(argv: string[], progress: RunProgress): Promise<number> {
  const dashDash = argv.indexOf('--')
  const serviceArgs = dashDash >= 0 ? argv.slice(dashDash + 1) : []
  const { values, positionals } = parseCommandArgs('run', {
    args: dashDash >= 0 ? argv.slice(0, dashDash) : argv,
    allowPositionals: true,
    options: {
      brokers: { type: 'string' },
      standalone: { type: 'boolean' },
      'application-id': { type: 'string' },
      'application-server': { type: 'string' },
      'state-dir': { type: 'string' },
      config: { type: 'string' },
      'processing-guarantee': { type: 'string' },
      'create-missing-topics': { type: 'string' },
      'auto-offset-reset': { type: 'string' },
      input: { type: 'string' },
      'input-topic': { type: 'string' },
      'key-field': { type: 'string' },
      'exit-after-input': { type: 'boolean' },
      print: { type: 'string', multiple: true },
      'metrics-port': { type: 'string' },
      'health-port': { type: 'string' },
      'log-level': { type: 'string' },
      threads: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(HELP.run)
    return 0
  }
  const rootLogger = cliLogger(values['log-level'] ?? process.env.SENTINEL_LOG_LEVEL ?? 'info')
  progress.logger = rootLogger
  const file = positionals[0]
  if (!file) throw new UsageError(`missing the topology file.\n\n${HELP.run}`)
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'; arguments for the file's services go after --`)
  if (values['exit-after-input'] && values.input === undefined) throw new UsageError('--exit-after-input needs --input')
  const threads = threadCount(values.threads)
  if (threads > 1 && values.standalone) throw new UsageError('--threads runs on Kafka only: standalone keeps every task in one process')
  if (threads > 1 && values.input !== undefined)
    throw new UsageError('--input feeds its topic once, from one process: feed it with --threads 1, or with a producer beside the threaded run')
  const metricsPort = values['metrics-port'] === undefined ? undefined : portNumber('--metrics-port', values['metrics-port'])
  const healthPort = values['health-port'] === undefined ? undefined : portNumber('--health-port', values['health-port'])

  const flags: Partial<StreamsConfig> & Record<string, unknown> = {
    ...(values.config ? readConfigFile(values.config) : {}),
    ...(values['application-id'] ? { applicationId: values['application-id'] } : {}),
    ...(values['application-server'] ? { applicationServer: values['application-server'] } : {}),
    ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
    ...(values['processing-guarantee'] ? { processingGuarantee: values['processing-guarantee'] as StreamsConfig['processingGuarantee'] } : {}),
    ...(values['auto-offset-reset'] ? { autoOffsetReset: values['auto-offset-reset'] as StreamsConfig['autoOffsetReset'] } : {}),
    ...(values['create-missing-topics'] ? { createMissingTopics: { partitions: partitionCount(values['create-missing-topics']) } } : {}),
  }
  if (threads > 1 && cluster.isPrimary) return superviseThreads({ threads, logger: rootLogger, metricsPort, healthPort })
  // A worker of --threads: the same command, forked by the supervisor, as thread i of n.
  const thread = threads > 1 ? threadIdentity(threads) : undefined
  const logger = thread ? rootLogger.child({ thread: thread.index }) : rootLogger
  progress.logger = logger
  const registry = new Registry()
  const loaded = await loadTopology(file, flags, { logger, metrics: registry })
  const applicationId = loaded.config.applicationId
  if (!applicationId) throw new UsageError('no application id: pass --application-id, or export `config = { applicationId }` from the topology file')
  const mode = chooseRunMode({
    standalone: values.standalone === true,
    flag: values.brokers,
    env: process.env.KAFKA_BROKERS,
    config: loaded.config.brokers,
  })

  let runtime: StreamsRuntime
  let standalone: StandaloneStreams | undefined
  if (thread && mode.kind === 'standalone') throw new UsageError('--threads runs on Kafka only, and no brokers are configured: pass --brokers')
  if (mode.kind === 'standalone') {
    logger.info(
      { forced: mode.forced },
      mode.forced ? 'running standalone (--standalone): embedded log, no scale-out, no crash recovery of in-flight records' : STANDALONE_NOTICE,
    )
    standalone = new StandaloneStreams(loaded.topology, { ...loaded.config, applicationId }, { logger, metrics: registry })
    runtime = standalone
  } else {
    logger.info({ brokers: mode.brokers, from: mode.source }, 'running on Kafka')
    const perThread = thread ? threadConfig(loaded.config, thread) : {}
    runtime = new SentinelStreams(loaded.topology, { ...loaded.config, ...perThread, applicationId, brokers: mode.brokers } as StreamsConfig, {
      logger,
      metrics: registry,
      ...(thread ? { clientIdSuffix: `-t${thread.index}`, beforeJoin: joinWhenSupervisorSays } : {}),
    })
  }
  const inputTopic = values.input === undefined ? undefined : (values['input-topic'] ?? soleSourceTopic(loaded.topology.plan(applicationId)))

  const readiness = new Readiness(runtime)
  // One line per state change with what /ready answers then: a probe can miss a rebalance of a
  // few hundred milliseconds, the log cannot.
  if (healthPort !== undefined) runtime.onStateChange(() => logger.info({ ...readiness.report() }, 'readiness'))
  if (metricsPort !== undefined) collectDefaultMetrics({ register: registry })
  // A thread's ports are the supervisor's: it serves them for every thread from what each reports.
  if (thread) reportToSupervisor(runtime, registry)
  const metricsServer = await serveOperationsPorts(
    thread ? { metricsPort: undefined, healthPort: undefined } : { metricsPort, healthPort },
    { metrics: registry, readiness },
    logger,
  )

  let services: RunningServices | undefined
  let finish: (code: number) => void = () => undefined
  const stopped = new Promise<number>((resolve) => (finish = resolve))
  let shuttingDown: Promise<void> | undefined
  const shutdown = (code: number, why: string): Promise<void> =>
    (shuttingDown ??= (async () => {
      logger.info({ reason: why }, 'shutting down: services first, then the topology (flush, commit)')
      try {
        await services?.close()
      } catch (e) {
        logger.error({ err: e }, 'closing the services failed')
      }
      await runtime.close()
      logger.info({ reason: why }, code === 0 ? 'shut down cleanly' : 'shut down')
      finish(code)
    })())

  let firstSignalAt: number | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    const now = Date.now()
    if (firstSignalAt === undefined) {
      firstSignalAt = now
      void shutdown(0, signal)
    } else if (now - firstSignalAt >= REPEATED_SIGNAL_WINDOW_MS) {
      logger.warn({ signal }, 'second signal: exiting without a clean shutdown')
      process.exit(1)
    } else {
      logger.debug({ signal, afterMs: now - firstSignalAt }, 'the same signal again, from the launcher or the process group: still shutting down cleanly')
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  runtime.onStateChange((next) => {
    if (next === 'error') void shutdown(1, 'the topology failed')
  })

  try {
    await runtime.start()
    for (const topic of shuttingDown ? [] : (values.print ?? [])) {
      await runtime.consume(
        topic,
        { groupId: `${applicationId}-print-${topic}`, from: 'earliest' },
        printRecords(process.stdout, topicSerdes(loaded.topology, topic)),
      )
    }
  } catch (e) {
    if (firstSignalAt !== undefined) {
      // Interrupted while starting: the shutdown the signal asked for is the outcome, not the error.
      const code = await stopped
      await metricsServer.close()
      return code
    }
    // Closed before the error is reported, so the client's own log lines come first and the
    // reason the run failed is the last line a user sees.
    await shutdown(1, 'the topology failed to start')
    progress.closed = true
    throw e
  }
  if (loaded.services && !shuttingDown) {
    try {
      services = await loaded.services({ runtime, config: loaded.config, logger, metrics: registry, args: serviceArgs })
      logger.info('services started')
    } catch (e) {
      // Interrupted while they started: the shutdown the signal asked for is the outcome.
      if (firstSignalAt !== undefined) logger.warn({ err: withoutSecrets(e) }, 'the services failed to start while shutting down')
      else {
        // Closed before the error is reported, as a failed start of the topology is.
        await shutdown(1, 'services failed to start')
        progress.closed = true
        throw e
      }
    }
  }
  progress.started = !shuttingDown
  if (values.input !== undefined && inputTopic !== undefined && !shuttingDown) {
    void feedInput(values.input, inputTopic, values['key-field'], runtime, logger).then(async (ok) => {
      if (!ok) return shutdown(1, 'the input failed')
      if (!values['exit-after-input']) return
      if (standalone) await standalone.idle(24 * 60 * 60 * 1000).catch(() => undefined)
      return shutdown(0, 'input processed (--exit-after-input)')
    })
  }
  const code = await stopped
  await metricsServer.close()
  return code
}

/** Pipes the --input file (or stdin) into its topic; false when it could not be read. */
async function feedInput(input: string, topic: string, keyField: string | undefined, runtime: StreamsRuntime, logger: pino.Logger): Promise<boolean> {
  const stream: Readable = input === '-' ? process.stdin : createReadStream(input)
  try {
    const result = await pipeJsonLines(runtime, stream, topic, keyField === undefined ? {} : { keyField })
    logger.info({ input: input === '-' ? 'stdin' : input, topic, ...result }, 'input read')
    if (result.malformed > 0)
      logger.warn(
        { malformed: result.malformed },
        "input lines that are not JSON objects were sent as they are; the topology's error policy decides (DLQ by default)",
      )
    return true
  } catch (e) {
    logger.error({ err: e, input }, 'cannot read the input')
    return false
  }
}

function soleSourceTopic(plan: TopologyPlan): string {
  const topics = [...new Set(plan.subtopologies.flatMap((s) => s.userSourceTopics))]
  if (topics.length !== 1) throw new UsageError(`--input needs --input-topic: the topology reads ${topics.length === 0 ? 'no topic' : topics.join(', ')}`)
  return topics[0]!
}

function portNumber(flag: string, text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || n < 1 || n > 65_535) throw new UsageError(`${flag} needs a port from 1 to 65535, got '${text}'`)
  return n
}

async function describe(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('describe', { args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } })
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
      case 'reset':
        return await resetCommand(rest)
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        console.log(HELP.main)
        return command === undefined ? 2 : 0
      case '-v':
      case '--version':
      case 'version':
        console.log(packageVersion())
        return 0
      default:
        throw new UsageError(
          command.startsWith('-')
            ? `unknown option ${command}; see 'sentinel-streams --help'`
            : `unknown command '${command}'; the commands are run, describe and reset (see 'sentinel-streams --help')`,
        )
    }
  } catch (e) {
    // The plain line stays, on a terminal or not, after the error line `run` has logged: it is what a
    // newcomer reads (the field and the fix of a bad setting, the help after a usage error), and a
    // CI log, `docker logs` or `| tee` is not a TTY either, so keeping it for TTYs only would hide it
    // where a failed start is read afterwards. Readers of the JSON log skip lines that are not JSON.
    console.error(`sentinel-streams: ${(e as Error).message ?? String(e)}`)
    return exitCodeOf(e)
  }
}

// kafkajs leaves timers behind after disconnect; the command is done, so the process is too.
process.exit(isChildOfTsxCli() ? await runBelowTsx() : await main(process.argv.slice(2)))
