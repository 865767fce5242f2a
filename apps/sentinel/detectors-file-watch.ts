/**
 * The detectors file, watched: an edit saved to it becomes a new detector version (`op: 'file'`),
 * written through the same path as the API's changes (api/detector-version-writer.ts), so every
 * instance applies it from the detector config topic, live where it can (detector-versions.ts).
 *
 * - The directory is watched, not the file: editors save by writing a new file and renaming it over
 *   the old one, which ends a watch on the file itself.
 * - Events are debounced (300 ms): one save fires several, and a half-written file must not be read.
 * - The content the instance started from is not published (it is version 0 already), nor content
 *   equal to the last one published or refused, nor definitions equal to the version in force (an
 *   instance that starts from a file exported by GET /detectors/versions/:v/file).
 * - A file that does not parse is logged at error with each detector, field and fix, and changes
 *   nothing: the version in force stays. So is a refused write (a conflict, an unreachable topic).
 *
 * With several instances watching copies of one file, each publishes the edit it sees; the same
 * definitions already in force are skipped, so a shared volume yields one version (or, in a race,
 * two identical ones: harmless).
 */
import { type FSWatcher, readFileSync, watch } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { Logger } from 'pino'
import { type DetectorVersionWriter } from './api/detector-version-writer.js'
import { ApiError } from './api/errors.js'
import { DetectorsConfigError, describeIssue, parseDetectorsConfig } from './detectors-config.js'

export const DETECTORS_FILE_DEBOUNCE_MS = 300

export interface DetectorsFileWatchOptions {
  readonly path: string
  readonly writer: Pick<DetectorVersionWriter, 'state' | 'commit'>
  readonly log: Logger
  readonly debounceMs?: number
}

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

export function watchDetectorsFile({ path, writer, log, debounceMs = DETECTORS_FILE_DEBOUNCE_MS }: DetectorsFileWatchOptions): DetectorsFileWatch {
  const name = basename(path)
  let lastText = readText(path)
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> = Promise.resolve()
  let closed = false

  async function publish(): Promise<void> {
    const text = readText(path)
    if (text === null || text === lastText || closed) return
    lastText = text
    let definitions: readonly Record<string, unknown>[]
    try {
      definitions = (parseDetectorsConfig(text, path).definitions ?? []) as Record<string, unknown>[]
    } catch (err) {
      if (!(err instanceof DetectorsConfigError)) throw err
      log.error(
        { file: path, issues: err.issues.map((i) => ({ detector: i.detector, field: i.field, fix: i.message })) },
        `detectors file refused, nothing changed (the version in force stays): ${err.issues.map(describeIssue).join('; ')}`,
      )
      return
    }
    try {
      const state = await writer.state()
      if (JSON.stringify(state.current.definitions) === JSON.stringify(definitions)) {
        log.info({ file: path, version: state.current.version }, 'detectors file saved: its definitions are the version in force already')
        return
      }
      const written = await writer.commit(state, 'file', null, definitions, null)
      log.info({ file: path, version: written.version, applied: written.applied, changes: written.changes }, 'detectors file published as a new version')
    } catch (err) {
      const detail = err instanceof ApiError ? { status: err.statusCode, code: err.code, message: err.message } : { err }
      log.error({ file: path, ...detail }, 'detectors file not published, nothing changed; save it again to retry')
    }
  }

  const schedule = (): void => {
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      running = running.then(publish).catch((err: unknown) => log.error({ err, file: path }, 'detectors file watch failed'))
    }, debounceMs)
  }

  const watcher: FSWatcher = watch(dirname(path), (_event, file) => {
    // Some platforms give no file name: then any change in the directory is a candidate.
    if (file === null || file === name) schedule()
  })
  watcher.on('error', (err) => log.error({ err, file: path }, 'detectors file watch failed; edits are no longer published'))

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
