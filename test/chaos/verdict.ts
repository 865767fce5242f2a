/**
 * What the fault suite's outputs must be, derived from what is actually in the input topic (a load
 * producer that re-sends a batch after a broker failure may have written it twice; the topology then
 * rightly processes it twice), and how far the outputs are from it.
 *
 * - lost: an input record missing from the echo, a closed window with no result or (at-least-once)
 *   a total or window count below what the input gives.
 * - dup: an echo record or a window result seen more often than the input explains.
 * - wrong: a final total or a window count that differs from the input's (exactly-once), or is
 *   below it (at-least-once, where replays may only add).
 * Under at-least-once, duplicates and counts above the input's are what the guarantee allows: they
 * are reported in `dup` but a run passes on lost = wrong = 0.
 */
import type { ChaosRecord, ChaosTotal } from './topology.js'

export type ChaosMode = 'eos' | 'alos'

export interface ChaosOutputs {
  /** Input records per partition, in offset order. */
  input: ReadonlyMap<number, readonly ChaosRecord[]>
  /** Echoed seqs, every occurrence. */
  echo: readonly number[]
  /** Every totals update per key, in order (the last is the final value). */
  totals: ReadonlyMap<string, readonly ChaosTotal[]>
  /** Every window result per `key@windowStart`, in order. */
  windows: ReadonlyMap<string, readonly number[]>
}

export interface ChaosVerdict {
  lost: number
  dup: number
  wrong: number
  /** The first few problems, for the log. */
  examples: string[]
}

export interface WindowSpec {
  sizeMs: number
  graceMs: number
}

/**
 * The final count of every window the topology closed: records are replayed per partition in offset
 * order with the stream time of that partition, dropping late ones as the windowed aggregate does
 * (close time <= stream time), and a window counts as closed once stream time reached its close.
 */
export function expectedWindows(input: ReadonlyMap<number, readonly ChaosRecord[]>, spec: WindowSpec): Map<string, number> {
  const closed = new Map<string, number>()
  for (const records of input.values()) {
    let streamTime = -Infinity
    const open = new Map<string, number>()
    for (const r of records) {
      streamTime = Math.max(streamTime, r.ts)
      const start = r.ts - (r.ts % spec.sizeMs)
      if (start + spec.sizeMs + spec.graceMs <= streamTime) continue
      const id = `${r.key}@${start}`
      open.set(id, (open.get(id) ?? 0) + 1)
    }
    for (const [id, count] of open) {
      const start = Number(id.slice(id.lastIndexOf('@') + 1))
      if (start + spec.sizeMs + spec.graceMs <= streamTime) closed.set(id, count)
    }
  }
  return closed
}

export function judge(outputs: ChaosOutputs, mode: ChaosMode, spec: WindowSpec): ChaosVerdict {
  const verdict: ChaosVerdict = { lost: 0, dup: 0, wrong: 0, examples: [] }
  // Losses and wrong results first: thousands of at-least-once duplicates must not hide them.
  const broken: string[] = []
  const doubled: string[] = []
  const note = (what: string, kind: 'broken' | 'dup' = 'broken'): void => {
    const list = kind === 'dup' ? doubled : broken
    if (list.length < 10) list.push(what)
  }

  const sent = new Map<number, number>()
  const totals = new Map<string, ChaosTotal>()
  for (const records of outputs.input.values()) {
    for (const r of records) {
      sent.set(r.seq, (sent.get(r.seq) ?? 0) + 1)
      const t = totals.get(r.key) ?? { count: 0, sum: 0 }
      totals.set(r.key, { count: t.count + 1, sum: t.sum + r.amount })
    }
  }

  const echoed = new Map<number, number>()
  for (const seq of outputs.echo) echoed.set(seq, (echoed.get(seq) ?? 0) + 1)
  for (const [seq, n] of sent) {
    const got = echoed.get(seq) ?? 0
    if (got < n) {
      verdict.lost += n - got
      note(`echo: seq ${seq} seen ${got} of ${n} times`)
    } else if (got > n) {
      verdict.dup += got - n
      note(`echo: seq ${seq} seen ${got} times, sent ${n}`, 'dup')
    }
  }
  for (const [seq, got] of echoed) {
    if (!sent.has(seq)) {
      verdict.wrong += got
      note(`echo: seq ${seq} never sent`)
    }
  }

  for (const [key, want] of totals) {
    const updates = outputs.totals.get(key) ?? []
    const final = updates[updates.length - 1]
    if (final === undefined) {
      verdict.lost++
      note(`totals: no result for ${key}`)
    } else if (final.count !== want.count || final.sum !== want.sum) {
      const short = final.count < want.count || final.sum < want.sum
      if (short || mode === 'eos') {
        verdict.wrong++
        note(`totals: ${key} is ${JSON.stringify(final)}, input gives ${JSON.stringify(want)}`)
      }
    }
  }

  const closed = expectedWindows(outputs.input, spec)
  for (const [id, results] of outputs.windows) {
    if (!closed.has(id)) {
      verdict.wrong += results.length
      note(`windows: ${id} emitted (${results.join(', ')}) but stream time never closed it, or no input was in it`)
    }
  }
  for (const [id, want] of closed) {
    const results = outputs.windows.get(id) ?? []
    if (results.length === 0) {
      verdict.lost++
      note(`windows: no result for ${id} (count ${want})`)
      continue
    }
    if (results.length > 1) {
      verdict.dup += results.length - 1
      note(`windows: ${id} emitted ${results.length} times: ${results.join(', ')}`, 'dup')
    }
    const final = results[results.length - 1]!
    if (final < want || (mode === 'eos' && final !== want)) {
      verdict.wrong++
      note(`windows: ${id} is ${final}, input gives ${want}`)
    }
  }
  verdict.examples = [...broken, ...doubled].slice(0, 10)
  return verdict
}

/** Whether a verdict meets its guarantee: nothing lost or wrong, and under exactly-once nothing doubled. */
export const passes = (v: ChaosVerdict, mode: ChaosMode): boolean => v.lost === 0 && v.wrong === 0 && (mode === 'alos' || v.dup === 0)
