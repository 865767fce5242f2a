/**
 * How `sentinel-streams run` says it could not start: one pino line at error level (50) with the
 * cause and the action taken, whatever failed (the flags, the settings, the topology file, Kafka,
 * the file's services, an uncaught error). What reads an instance's JSON log (a log shipper,
 * bench/soak) otherwise saw an exit code and no line saying why: the reason was a plain text line.
 *
 * The CLI's logger is made here too, so a failure before the flags give a log level (a flag the
 * parser refuses, an unknown level) is written in the same format, at info.
 */
import pino from 'pino'
import { ConfigError } from '../../runtime/config.js'
import { UsageError } from './command-args.js'
import { TopologyFileError } from './load-topology.js'
import { RunModeError } from './run-mode.js'

const LEVELS = [...Object.keys(pino.levels.values), 'silent']

/**
 * pino to stderr, synchronous: the command ends in process.exit, which would drop lines still
 * queued, and the closing error line must come after every log line, not overtake them.
 */
export function cliLogger(level = 'info'): pino.Logger {
  if (!LEVELS.includes(level)) throw new UsageError(`--log-level (or SENTINEL_LOG_LEVEL) needs one of ${LEVELS.join(', ')}, got '${level}'`)
  return pino({ level }, pino.destination({ dest: 2, sync: true }))
}

/** 2 for a wrong invocation or setting (a supervisor of --threads then stops, not restarts), 1 for a failed run. */
export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError || error instanceof TopologyFileError || error instanceof ConfigError || error instanceof RunModeError ? 2 : 1
}

export interface StartFailure {
  readonly exitCode: number
  /** Whether the topology (and the services, if they had started) began to start and was shut down before this line. */
  readonly closed: boolean
}

export function logStartFailure(logger: pino.Logger, error: unknown, { exitCode, closed }: StartFailure): void {
  const cause = withoutSecrets(error)
  logger.error(
    { err: cause, exitCode, action: `${closed ? 'shut down what had started' : 'nothing was started'}; exiting with code ${exitCode}` },
    // The cause in the message as well: a log view or a soak summary often shows only `msg`. The
    // first paragraph only: a usage error goes on with the command's help.
    `failed to start: ${cause.message.split('\n\n')[0]}`,
  )
}

/** An uncaught error or unhandled rejection: logged once, then the process exits 1 without a clean shutdown, as node itself would. */
export function logUncaught(logger: pino.Logger, error: unknown, started: boolean): void {
  const cause = withoutSecrets(error)
  logger.error(
    { err: cause, exitCode: 1, action: 'exiting with code 1 without a clean shutdown (uncommitted work is processed again after the restart)' },
    `${started ? 'uncaught error' : 'failed to start: uncaught error'}: ${cause.message}`,
  )
}

const MAX_CAUSES = 5

/**
 * The error as pino's err serializer should see it: type, message, stack, `code` and a
 * ConfigError's `field`, and its causes, with credentials in URLs masked. Not the error's other
 * own properties: an HTTP client's error (a schema registry's) carries its request settings,
 * credentials included, and a Kafka client's its connection options (SASL).
 */
export function withoutSecrets(error: unknown, depth = 0): Error {
  if (!(error instanceof Error)) return new Error(maskUrlCredentials(String(error)))
  // The same prototype, so that the serializer's `type` is the error's class (ConfigError, ...).
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error & Record<string, unknown>
  const hidden = (value: unknown): PropertyDescriptor => ({ value, enumerable: false, writable: true, configurable: true })
  Object.defineProperties(copy, {
    message: hidden(maskUrlCredentials(error.message)),
    stack: hidden(error.stack === undefined ? undefined : maskUrlCredentials(error.stack)),
  })
  const { code, field } = error as { code?: unknown; field?: unknown }
  if (typeof code === 'string' || typeof code === 'number') copy.code = code
  if (typeof field === 'string') copy.field = field
  if (error.cause !== undefined && depth < MAX_CAUSES) Object.defineProperty(copy, 'cause', hidden(withoutSecrets(error.cause, depth + 1)))
  return copy
}

/** `https://user:secret@host/...` as `https://[redacted]@host/...`: a registry URL may carry its credentials. */
export function maskUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1[redacted]@')
}
