/**
 * The soak's samples as one small SVG, written by hand (no plotting dependency for five line charts):
 * panels stacked on a shared minutes axis — RSS per instance, event-loop delay p99 per instance,
 * commit time, consumer lag, achieved input rate against the target — with the instance restarts
 * as dashed vertical lines. Each panel's y axis starts at 0, so a flat line looks flat.
 */
import type { SoakSample } from './soak-sampler.js'

interface Series {
  label: string
  points: [number, number | undefined][]
  dashed?: boolean
}

interface Panel {
  title: string
  unit: string
  series: Series[]
}

const WIDTH = 860
const PANEL_HEIGHT = 150
const LEFT = 70
const RIGHT = 20
const TOP = 40
const GAP = 45
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b']

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** A round step for about four grid lines up to `max`. */
function gridStep(max: number): number {
  const raw = max / 4
  const power = 10 ** Math.floor(Math.log10(raw))
  return ([1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power) || 1
}

const tickLabel = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : v >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3))))

function drawPanel(panel: Panel, top: number, maxMinute: number, restartsAt: readonly number[]): string {
  const plotWidth = WIDTH - LEFT - RIGHT
  const values = panel.series.flatMap((s) => s.points.map(([, v]) => v)).filter((v): v is number => v !== undefined && Number.isFinite(v))
  const step = gridStep(Math.max(...values, 0) * 1.1 || 1)
  const yMax = step * Math.max(1, Math.ceil((Math.max(...values, 0) * 1.05) / step))
  const x = (minute: number): number => LEFT + (plotWidth * minute) / (maxMinute || 1)
  const y = (v: number): number => top + PANEL_HEIGHT - (PANEL_HEIGHT * v) / yMax
  const out: string[] = []
  out.push(`<text x="${LEFT}" y="${top - 8}" font-weight="bold">${escape(panel.title)} (${escape(panel.unit)})</text>`)
  let legendX = LEFT + 9 * panel.title.length + 8 * panel.unit.length + 40
  panel.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]
    out.push(
      `<line x1="${legendX}" y1="${top - 12}" x2="${legendX + 18}" y2="${top - 12}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
    )
    out.push(`<text x="${legendX + 22}" y="${top - 8}">${escape(s.label)}</text>`)
    legendX += 30 + 7 * s.label.length
  })
  for (let v = 0; v <= yMax + step / 2; v += step) {
    out.push(`<line x1="${LEFT}" y1="${y(v).toFixed(1)}" x2="${WIDTH - RIGHT}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`)
    out.push(`<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${tickLabel(v)}</text>`)
  }
  for (const at of restartsAt)
    out.push(`<line x1="${x(at).toFixed(1)}" y1="${top}" x2="${x(at).toFixed(1)}" y2="${top + PANEL_HEIGHT}" stroke="#999" stroke-dasharray="3,3"/>`)
  panel.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]
    // A missing figure breaks the line instead of joining across it.
    let run: string[] = []
    const flush = (): void => {
      if (run.length === 1) out.push(`<circle cx="${run[0]!.split(',')[0]}" cy="${run[0]!.split(',')[1]}" r="2" fill="${colour}"/>`)
      if (run.length > 1)
        out.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5,3"' : ''} points="${run.join(' ')}"/>`)
      run = []
    }
    for (const [minute, v] of s.points) {
      if (v === undefined || !Number.isFinite(v)) flush()
      else run.push(`${x(minute).toFixed(1)},${y(v).toFixed(1)}`)
    }
    flush()
  })
  out.push(`<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#333"/>`)
  return out.join('\n')
}

export function soakSvg(
  samples: readonly SoakSample[],
  options: { targetRate: number; restartsAt: readonly number[]; title: string; subtitle: string },
): string {
  const instances = Math.max(0, ...samples.map((s) => s.instances.length))
  const perInstance = (pick: (i: SoakSample['instances'][number]) => number | undefined): Series[] =>
    Array.from({ length: instances }, (_, n) => ({
      label: `instance ${n + 1}`,
      points: samples.map((s): [number, number | undefined] => [s.minute, s.instances[n] && pick(s.instances[n])]),
    }))
  const panels: Panel[] = [
    { title: 'RSS', unit: 'MiB', series: perInstance((i) => i.rssMb) },
    { title: 'Event-loop delay p99', unit: 'ms', series: perInstance((i) => i.loopP99Ms) },
    {
      // The runtime's histogram tops out at 10 s: a p99 beyond it shows as 10 s; the mean is exact.
      title: 'Commit time',
      unit: 'ms; p99 caps at 10 s',
      series: [
        { label: 'p99', points: samples.map((s) => [s.minute, s.commitP99Ms]) },
        { label: 'mean', points: samples.map((s) => [s.minute, s.commitMeanMs]) },
      ],
    },
    {
      title: 'Consumer lag',
      unit: 'records',
      series: [
        { label: 'input topic', points: samples.map((s) => [s.minute, s.inputLag]) },
        { label: 'all topics of the group', points: samples.map((s) => [s.minute, s.totalLag]) },
      ],
    },
    {
      title: 'Input rate',
      unit: 'events/s',
      series: [
        { label: 'achieved', points: samples.map((s) => [s.minute, s.achievedRate]) },
        { label: 'target', points: samples.map((s) => [s.minute, options.targetRate]), dashed: true },
      ],
    },
  ]
  const maxMinute = Math.max(1, ...samples.map((s) => s.minute))
  const height = TOP + 20 + panels.length * (PANEL_HEIGHT + GAP) + 20
  const body = panels.map((p, i) => drawPanel(p, TOP + 30 + i * (PANEL_HEIGHT + GAP), maxMinute, options.restartsAt))
  const axisY = TOP + 30 + panels.length * (PANEL_HEIGHT + GAP) - GAP + 16
  const axis: string[] = []
  const step = gridStep(maxMinute)
  for (let m = 0; m <= maxMinute + 1e-9; m += step)
    axis.push(`<text x="${(LEFT + ((WIDTH - LEFT - RIGHT) * m) / maxMinute).toFixed(1)}" y="${axisY}" text-anchor="middle">${tickLabel(m)}</text>`)
  axis.push(`<text x="${WIDTH / 2}" y="${axisY + 16}" text-anchor="middle">minutes since the load started (dashed verticals: instance restarts)</text>`)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height + 20}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="${LEFT}" y="${TOP - 8}" font-size="14" font-weight="bold">${escape(options.title)}</text>
<text x="${LEFT}" y="${TOP + 8}">${escape(options.subtitle)}</text>
${body.join('\n')}
${axis.join('\n')}
</svg>
`
}
