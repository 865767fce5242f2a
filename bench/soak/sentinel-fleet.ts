/**
 * The LLM-Sentinel instances of a soak, each a CLI process (`sentinel-streams run
 * apps/sentinel/topology.ts`, through the fault suite's launcher) in a fixed slot: its own state
 * dir, metrics port and API port, kept across restarts, so a restarted instance comes back on its
 * RocksDB state as a redeployed pod would.
 */
import { missingGlibcMallocEnv } from '../../apps/cli/glibc-malloc-env.js'
import { freePort } from '../../scripts/launcher/process.js'
import { startInstance, type CliInstance, type LogLine } from '../../test/integration/runtime/cli-instance.js'
import { TempStateDirs } from '../../test/integration/runtime/request-fixtures.js'

export interface FleetSlot {
  readonly index: number
  readonly stateDir: string
  readonly metricsPort: number
  instance: CliInstance
  /** The slot's earlier processes, restarted or exited. */
  readonly retired: CliInstance[]
  /** Planned restarts, and restarts after the instance exited on its own. */
  restarts: number
  crashes: number
  /** Error lines of this slot already reported by `newErrors`. */
  reportedErrors: number
  restarting: boolean
}

/** Every error-level line of a slot's processes, oldest process first. */
export const slotErrors = (slot: FleetSlot): LogLine[] => [...slot.retired, slot.instance].flatMap((i) => i.logs.filter((l) => l.level >= 50))

export interface FleetOptions {
  applicationId: string
  /** The CLI's config file contents: the library's settings and the app's `sentinel:` section. */
  settings: Record<string, unknown>
  /** Grace for a SIGTERM before SIGKILL. */
  stopTimeoutMs?: number
}

export class SentinelFleet {
  readonly slots: FleetSlot[] = []
  private readonly stateDirs = new TempStateDirs()

  constructor(private readonly options: FleetOptions) {}

  private launch(stateDir: string, metricsPort: number, apiPort: number): CliInstance {
    return startInstance({
      topologyFile: 'apps/sentinel/topology.ts',
      applicationId: this.options.applicationId,
      stateDir,
      settings: this.options.settings,
      args: ['--metrics-port', String(metricsPort)],
      // Warnings and errors only: every line is kept in memory for the whole soak.
      logLevel: 'warn',
      // The image's malloc settings (docker/Dockerfile), unless the soak's own environment sets them.
      env: { ...missingGlibcMallocEnv(process.env), SENTINEL_API_PORT: String(apiPort) },
    })
  }

  /** Starts `count` instances together and resolves when each has reached running. */
  async start(count: number): Promise<void> {
    for (let index = 0; index < count; index++) {
      const stateDir = this.stateDirs.create()
      const [metricsPort, apiPort] = [await freePort(), await freePort()]
      this.slots.push({
        index,
        stateDir,
        metricsPort,
        instance: this.launch(stateDir, metricsPort, apiPort),
        retired: [],
        restarts: 0,
        crashes: 0,
        reportedErrors: 0,
        restarting: false,
      })
    }
    await Promise.all(this.slots.map((s) => this.untilMetricsServed(s)))
  }

  /** SIGTERM (a clean shutdown: flush, commit, leave the group), then the same slot again on its state. */
  async restart(slot: FleetSlot, reason: 'planned' | 'crashed' = 'planned'): Promise<{ stoppedInMs: number }> {
    slot.restarting = true
    try {
      const began = Date.now()
      await this.stop(slot.instance)
      const stoppedInMs = Date.now() - began
      slot.retired.push(slot.instance)
      if (reason === 'planned') slot.restarts++
      else slot.crashes++
      slot.instance = this.launch(slot.stateDir, slot.metricsPort, await freePort())
      await this.untilMetricsServed(slot)
      return { stoppedInMs }
    } finally {
      slot.restarting = false
    }
  }

  /** Slots whose instance exited without being asked to (a failed topology stops its process). */
  exitedOnTheirOwn(): FleetSlot[] {
    return this.slots.filter((s) => !s.restarting && s.instance.process.exitCode !== null)
  }

  /** Error-level lines logged since the last call, per slot, for the soak's log. */
  newErrors(): { slot: FleetSlot; lines: LogLine[] }[] {
    return this.slots.flatMap((slot) => {
      const lines = slotErrors(slot)
      const fresh = lines.slice(slot.reportedErrors)
      slot.reportedErrors = lines.length
      return fresh.length > 0 ? [{ slot, lines: fresh }] : []
    })
  }

  /** The metrics port answers once the CLI has built the topology and started the runtime. */
  private async untilMetricsServed(slot: FleetSlot, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (slot.instance.process.exitCode !== null) {
        const last = [...slot.instance.logs.slice(-5).map((l) => JSON.stringify(l)), ...slot.instance.plainLines.slice(-5)]
        throw new Error(`instance ${slot.index + 1} exited with ${slot.instance.process.exitCode} while starting; its last lines:\n${last.join('\n')}`)
      }
      const ok = await fetch(`http://127.0.0.1:${slot.metricsPort}/metrics`).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) return
      await new Promise((r) => setTimeout(r, 500))
    }
    throw new Error(`instance ${slot.index + 1} served no metrics within ${timeoutMs} ms`)
  }

  private async stop(instance: CliInstance): Promise<void> {
    if (instance.process.exitCode !== null || instance.process.signalCode !== null) return
    instance.kill('SIGTERM')
    const timer = setTimeout(() => instance.kill('SIGKILL'), this.options.stopTimeoutMs ?? 30_000)
    await instance.exited
    clearTimeout(timer)
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.stop(s.instance)))
    this.stateDirs.removeAll()
  }
}
