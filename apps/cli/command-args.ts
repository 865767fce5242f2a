/**
 * What every command shares: its arguments parsed with errors a user can act on, the settings file,
 * and `UsageError`, the failure that exits 2 (a wrong invocation, not a failed run).
 */
import { readFileSync } from 'node:fs'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { parse as parseYaml } from 'yaml'
import type { StreamsConfig } from '../../runtime/config.js'

export class UsageError extends Error {}

/**
 * node's parseArgs errors quote the option with a dangling quote and suggest `--` for positionals;
 * what a user needs is which option is wrong and where the valid ones are listed.
 */
export function parseCommandArgs<const T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config)
  } catch (e) {
    const error = e as Error & { code?: string }
    const help = `see 'sentinel-streams ${command} --help'`
    const option = /'(-[^' ]+)/.exec(error.message)?.[1]
    if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${option ?? ''} for '${command}'; ${help} for the options`)
    if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(/argument missing/.test(error.message) ? `option ${option ?? ''} needs a value; ${help}` : `option ${option ?? ''} takes no value; ${help}`)
    }
    if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument for '${command}'; ${help}`)
    throw e
  }
}

export function readConfigFile(path: string): Partial<StreamsConfig> {
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

