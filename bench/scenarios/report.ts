/**
 * The scenario family's report: per incident kind recall (detected and alerted), time to detect
 * (median, p90), then the false alarms (per 10K key-windows, per hour, by detector), precision and
 * false automatic blocks, and the summary line.
 */
import { SCENARIO_INCIDENT_KINDS } from './incidents.js'
import type { IncidentOutcome, ScenarioScore } from './scoring.js'

export interface ScenarioRun {
  readonly scenario: { readonly seed: number; readonly shape: string; readonly users: number; readonly events: number }
  readonly score: ScenarioScore
}

export interface ReportOptions {
  readonly seeds: string
  readonly hours: number
  readonly list: boolean
  readonly detectorsSource: string
}

/** Nearest-rank quantile; null for no values. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? null
}

const seconds = (ms: number | null): string => (ms === null ? '-' : String(Math.round(ms / 1000)))
const ratio = (n: number, d: number): string => (d === 0 ? '-' : (n / d).toFixed(2))

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

function kindRow(kind: string, outcomes: readonly IncidentOutcome[]): string[] {
  const detected = outcomes.filter((o) => o.detected)
  const ttd = detected.map((o) => o.timeToDetectMs ?? 0)
  const detectors = new Map<string, number>()
  for (const o of detected) detectors.set(o.firstDetector ?? '-', (detectors.get(o.firstDetector ?? '-') ?? 0) + 1)
  return [
    kind,
    String(outcomes.length),
    ratio(detected.length, outcomes.length),
    ratio(outcomes.filter((o) => o.alerted).length, outcomes.length),
    seconds(quantile(ttd, 0.5)),
    seconds(quantile(ttd, 0.9)),
    [...detectors].map(([d, n]) => `${d} ${n}`).join(', ') || '-',
  ]
}

export function formatReport(runs: readonly ScenarioRun[], options: ReportOptions): string {
  const outcomes = runs.flatMap((r) => r.score.outcomes)
  const lines: string[] = []
  lines.push(`scenarios: ${runs.length} (${options.seeds} seeds ${runs[0]?.scenario.seed ?? '-'}..${runs[runs.length - 1]?.scenario.seed ?? '-'}), ${options.hours} h of traffic, detectors ${options.detectorsSource}`)
  lines.push(`shapes: ${['steady', 'diurnal', 'bursty'].map((s) => `${s} ${runs.filter((r) => r.scenario.shape === s).length}`).join(', ')}; populations: ${[40, 200].map((u) => `${u} users ${runs.filter((r) => r.scenario.users === u).length}`).join(', ')}`)
  lines.push('')
  const rows = SCENARIO_INCIDENT_KINDS.map((kind) => kindRow(kind, outcomes.filter((o) => o.incident.kind === kind)))
  rows.push(kindRow('all', outcomes))
  lines.push(table(['incident', 'n', 'recall', 'alerted', 'ttd_p50_s', 'ttd_p90_s', 'first detector'], rows))
  // An incident whose entity had no call in its span changed nothing: no detector can see it. It
  // stays in the recall above (the generator placed it); this line says how many there were.
  const unseen = outcomes.filter((o) => o.incident.evidence === 0)
  const seen = outcomes.filter((o) => o.incident.evidence > 0)
  lines.push('')
  lines.push(`incidents that changed no call (no telemetry to detect): ${unseen.length}${unseen.length === 0 ? '' : ` (${unseen.map((o) => o.incident.kind).join(', ')})`}; recall over the others ${ratio(seen.filter((o) => o.detected).length, seen.length)}`)
  const anomalies = runs.reduce((s, r) => s + r.score.anomalies, 0)
  const explained = runs.reduce((s, r) => s + r.score.explained, 0)
  const falseAlarms = runs.flatMap((r) => r.score.falseAlarms)
  const keyWindows = runs.reduce((s, r) => s + r.score.keyWindows, 0)
  const byDetector = new Map<string, number>()
  for (const a of falseAlarms) byDetector.set(a.detector_id, (byDetector.get(a.detector_id) ?? 0) + 1)
  // Shield throttles a block per entity, so a false block is counted once per entity and scenario.
  const falseBlocks = runs.reduce((s, r) => s + new Set(r.score.falseBlocks.map((a) => a.affected_entity?.id ?? a.application_id)).size, 0)
  const blocks = runs.reduce((s, r) => s + r.score.blocks, 0)
  const precision = anomalies === 0 ? 1 : explained / anomalies
  const perHour = falseAlarms.length / options.hours
  lines.push('')
  lines.push(`anomalies: ${anomalies}; explained by an incident (detections and consequences): ${explained}; precision ${precision.toFixed(3)}`)
  lines.push(`false alarms: ${falseAlarms.length} = ${((falseAlarms.length / keyWindows) * 10_000).toFixed(2)} per 10K key-windows (${keyWindows} key-windows: (application|model|user, minute) pairs with telemetry) = ${perHour.toFixed(2)} per hour`)
  lines.push(`false alarms by detector: ${[...byDetector].map(([d, n]) => `${d} ${n}`).join(', ') || 'none'}`)
  lines.push(`Shield block anomalies: ${blocks}; false automatic blocks (entities blocked without an incident): ${falseBlocks}`)
  if (options.list) {
    lines.push('')
    for (const run of runs) {
      for (const o of run.score.outcomes) lines.push(`  seed ${run.scenario.seed} ${o.incident.kind} ${o.incident.description} at +${Math.round((o.incident.start - Date.parse('2026-03-02T08:00:00Z')) / 60_000)}m (${o.incident.evidence} calls changed): ${o.detected ? `detected in ${seconds(o.timeToDetectMs)} s by ${o.firstDetector}` : 'MISSED'}${o.alerted ? ', alerted' : ''}`)
      for (const a of run.score.falseAlarms) lines.push(`  seed ${run.scenario.seed} false alarm ${a.detector_id} ${a.affected_entity?.type}:${a.affected_entity?.id} ${a.timestamp} ${a.severity} score ${a.score.toFixed(2)} ${a.title ?? ''}`)
    }
  }
  const ttd = quantile(outcomes.filter((o) => o.detected).map((o) => o.timeToDetectMs ?? 0), 0.5)
  lines.push('')
  lines.push(`SCENARIOS recall=${ratio(outcomes.filter((o) => o.detected).length, outcomes.length)} precision=${precision.toFixed(3)} ttd_p50_s=${seconds(ttd)} false_alarms_per_hour=${perHour.toFixed(2)}`)
  return lines.join('\n')
}
