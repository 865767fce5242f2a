export { StandaloneStreams, type StandaloneStreamsOptions } from './standalone-streams.js'
export { type StandaloneConfig, type ResolvedStandaloneConfig, resolveStandaloneConfig } from './standalone-config.js'
export { EmbeddedLog, type EmbeddedLogOptions, type LogRecord, type AppendRecord, type LogRetention, UnknownPartitionError, LOG_DEFAULTS } from './embedded-log.js'
export { pipeJsonLines, type JsonLinesOptions, type JsonLinesResult } from './json-lines.js'
