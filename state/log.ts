import pino, { type Logger } from 'pino'

/** The state layer's logger; level from SENTINEL_LOG_LEVEL (default info). Callers may pass their own. */
export const stateLogger: Logger = pino({ name: 'sentinel-streams:state', level: process.env.SENTINEL_LOG_LEVEL ?? 'info' })
