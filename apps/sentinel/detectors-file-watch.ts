/**
 * A configuration file, watched: an edit saved to it becomes a new version (`op: 'file'`), written
 * through the same path as the API's changes (api/config-version-writer.ts), so every instance
 * applies it from the config topic, live where it can. Two files are watched so: the detectors file
 * (detector-versions.ts) and the alert rules file (alerting/alert-rule-versions.ts).
 *
 * - The directory is watched, not the file: editors save by writing a new file and renaming it over
 *   the old one, which ends a watch on the file itself.
 * - Events are debounced (300 ms): one save fires several, and a half-written file must not be read.
 * - The content the instance started from is not published (it is version 0 already), nor content
 *   equal to the last one published or refused, nor content equal to the version in force (an
 *   instance that starts from a file exported by GET .../versions/:v/file).
 * - A file that does not parse is logged at error with each item, field and fix, and changes
 *   nothing: the version in force stays. So is a refused write (a conflict, an unreachable topic).
 *
 * With several instances watching copies of one file, each publishes the edit it sees; the same
 * content already in force is skipped, so a shared volume yields one version (or, in a race,
 * two identical ones: harmless).
 */
import { type FSWatcher, readFileSync, watch } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { Logger } from 'pino'
import { rulesFileVersion } from './alerting/alert-rule-versions.js'
import { AlertRulesConfigError, describeAlertRulesIssue, parseAlertRulesConfig } from './alerting/alert-rules-config.js'
import type { ConfigVersionWriter } from './api/config-version-writer.js'
import { ApiError } from './api/errors.js'
import { type ConfigVersion, sameContent } from './config-versions.js'
import { DetectorsConfigError, describeIssue, parseDetectorsConfig } from './detectors-config.js'

export const DETECTORS_FILE_DEBOUNCE_MS = 300

export interface DetectorsFileWatchOptions {
  readonly path: string
  readonly writer: Pick<ConfigVersionWriter<unknown>, 'state' | 'commit'>
  readonly log: Logger
  readonly debounceMs?: number
}

/** How a watched file's text becomes a version, and how a refused one is logged. */
interface WatchedFormat {
  /** `detectors`, `alert rules`: for log lines. */
  readonly what: string
  /** The text as a version; throws when it does not parse. */
  parse(text: string, path: string): Pick<ConfigVersion, 'definitions' | 'sections'>
  /** The issues of a parse error (each item, field, fix), or null for an error that is no refusal (rethrown). */
  refusal(err: unknown): { readonly issues: readonly unknown[]; readonly message: string } | null
}

const DETECTORS_FILE: WatchedFormat = {
  what: 'detectors',
  parse: (text, path) => ({ definitions: (parseDetectorsConfig(text, path).definitions ?? []) as Record<string, unknown>[], sections: null }),
  refusal: (err) =>
    err instanceof DetectorsConfigError
      ? { issues: err.issues.map((i) => ({ detector: i.detector, field: i.field, fix: i.message })), message: err.issues.map(describeIssue).join('; ') }
      : null,
}

const ALERT_RULES_FILE: WatchedFormat = {
  what: 'alert rules',
  // Checked as a version is (the writer checks the receivers and detectors it names again).
  parse: (text, path) => rulesFileVersion(parseAlertRulesConfig(text, { source: path }).document ?? {}),
  refusal: (err) =>
    err instanceof AlertRulesConfigError
      ? { issues: err.issues.map((i) => ({ rule: i.rule, field: i.field, fix: i.message })), message: err.issues.map(describeAlertRulesIssue).join('; ') }
      : null,
}

/** The detectors file, watched. */
export const watchDetectorsFile = (options: DetectorsFileWatchOptions): DetectorsFileWatch => watchConfigFile(DETECTORS_FILE, options)

/** The alert rules file, watched. */
export const watchAlertRulesFile = (options: DetectorsFileWatchOptions): DetectorsFileWatch => watchConfigFile(ALERT_RULES_FILE, options)

export interface DetectorsFileWatch {
  /** Resolves when the edits seen so far are published or refused (for tests and shutdown). */
  settled(): Promise<void>
  close(): Promise<void>
}

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    // Between an editor's unlink and rename the file may be missing: the next event reads it.
    return null
  }
}

function watchConfigFile(format: WatchedFormat, { path, writer, log, debounceMs = DETECTORS_FILE_DEBOUNCE_MS }: DetectorsFileWatchOptions): DetectorsFileWatch {
  const name = basename(path)
  let lastText = readText(path)
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> = Promise.resolve()
  let closed = false
  const { what } = format

  async function publish(): Promise<void> {
    const text = readText(path)
    if (text === null || text === lastText || closed) return
    lastText = text
    let content: Pick<ConfigVersion, 'definitions' | 'sections'>
    try {
      content = format.parse(text, path)
    } catch (err) {
      const refused = format.refusal(err)
      if (refused === null) throw err
      log.error({ file: path, issues: refused.issues }, `${what} file refused, nothing changed (the version in force stays): ${refused.message}`)
      return
    }
    try {
      const state = await writer.state()
      if (sameContent(state.current, content)) {
        log.info({ file: path, version: state.current.version }, `${what} file saved: its content is the version in force already`)
        return
      }
      const written = await writer.commit(state, 'file', null, content.definitions, null, content.sections)
      log.info({ file: path, version: written.version, applied: written.applied, changes: written.changes }, `${what} file published as a new version`)
    } catch (err) {
      const detail = err instanceof ApiError ? { status: err.statusCode, code: err.code, message: err.message } : { err }
      log.error({ file: path, ...detail }, `${what} file not published, nothing changed; save it again to retry`)
    }
  }

  const schedule = (): void => {
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      running = running.then(publish).catch((err: unknown) => log.error({ err, file: path }, `${what} file watch failed`))
    }, debounceMs)
  }

  const watcher: FSWatcher = watch(dirname(path), (_event, file) => {
    // Some platforms give no file name: then any change in the directory is a candidate.
    if (file === null || file === name) schedule()
  })
  watcher.on('error', (err) => log.error({ err, file: path }, `${what} file watch failed; edits are no longer published`))

  return {
    async settled() {
      while (timer !== null) await new Promise((resolve) => setTimeout(resolve, debounceMs))
      await running
    },
    async close() {
      closed = true
      if (timer !== null) clearTimeout(timer)
      watcher.close()
      await running
    },
  }
}
