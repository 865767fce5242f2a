/** A setting that is wrong: the message names the field, what was given, and the fix. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    problem: string,
    fix: string,
  ) {
    super(`invalid config '${field}': ${problem}. ${fix}`)
    this.name = 'ConfigError'
  }
}
