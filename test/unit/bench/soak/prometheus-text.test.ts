/** The soak's readings of /metrics: a histogram's interval between two scrapes, and its quantile as histogram_quantile estimates it. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Histogram as PromHistogram, Registry } from 'prom-client'
import { addHistograms, gauge, histogram, histogramSince, quantile } from '../../../../bench/soak/prometheus-text.js'

function commitHistogram(observations: number[], labelled = false): { text: () => Promise<string>; observe: (v: number) => void } {
  const registry = new Registry()
  const h = new PromHistogram({ name: 'commit_seconds', help: 'x', buckets: [0.1, 1, 10], labelNames: labelled ? ['task'] : [], registers: [registry] })
  const observe = (v: number): void => (labelled ? h.observe({ task: v > 1 ? 'a' : 'b' }, v) : h.observe(v))
  observations.forEach(observe)
  return { text: () => registry.metrics(), observe }
}

test('a histogram as prom-client writes it, summed over its label sets', async () => {
  const m = commitHistogram([0.05, 0.5, 0.5, 5], true)
  const h = histogram(await m.text(), 'commit_seconds')!
  assert.deepEqual(h.buckets, [
    [0.1, 1],
    [1, 3],
    [10, 4],
    [Infinity, 4],
  ])
  assert.equal(h.count, 4)
  assert.ok(Math.abs(h.sum - 6.05) < 1e-9)
  assert.equal(histogram(await m.text(), 'absent_seconds'), undefined)
})

test('the interval between two scrapes, and a restarted instance counting from zero again', async () => {
  const m = commitHistogram([0.05, 0.05])
  const before = histogram(await m.text(), 'commit_seconds')!
  m.observe(5)
  const after = histogram(await m.text(), 'commit_seconds')!
  const interval = histogramSince(after, before)
  assert.equal(interval.count, 1)
  assert.deepEqual(interval.buckets.at(0), [0.1, 0])
  assert.equal(quantile(interval, 0.99)! > 1, true, 'only the slow commit is in the interval')
  const restarted = commitHistogram([0.5]).text
  assert.equal(histogramSince(histogram(await restarted(), 'commit_seconds')!, after).count, 1, 'fewer than before: a new process, taken whole')
})

test('quantiles: linear within the bucket, capped at the last finite bound, none without observations', () => {
  const h = {
    buckets: [
      [0.1, 50],
      [1, 100],
      [Infinity, 100],
    ] as [number, number][],
    sum: 0,
    count: 100,
  }
  assert.ok(Math.abs(quantile(h, 0.5)! - 0.1) < 1e-9)
  assert.ok(Math.abs(quantile(h, 0.75)! - 0.55) < 1e-9)
  const slow = {
    buckets: [
      [0.1, 0],
      [10, 1],
      [Infinity, 100],
    ] as [number, number][],
    sum: 0,
    count: 100,
  }
  assert.equal(quantile(slow, 0.99), 10)
  assert.equal(
    quantile(
      {
        buckets: [
          [1, 0],
          [Infinity, 0],
        ],
        sum: 0,
        count: 0,
      },
      0.99,
    ),
    undefined,
  )
  assert.equal(addHistograms([h, h])!.count, 200)
})

test('a gauge value; NaN (an event-loop histogram with no samples yet) reads as NaN, not as a number', () => {
  const text = '# HELP x y\n# TYPE nodejs_eventloop_lag_p99_seconds gauge\nnodejs_eventloop_lag_p99_seconds 0.0123\nnodejs_eventloop_lag_max_seconds NaN\n'
  assert.equal(gauge(text, 'nodejs_eventloop_lag_p99_seconds'), 0.0123)
  assert.ok(Number.isNaN(gauge(text, 'nodejs_eventloop_lag_max_seconds')))
  assert.equal(gauge(text, 'absent'), undefined)
})

test('a gauge of one label set: the first series whose labels include it', () => {
  const text = 'nodejs_heap_space_size_used_bytes{space="new"} 10\nnodejs_heap_space_size_used_bytes{space="old"} 20\n'
  assert.equal(gauge(text, 'nodejs_heap_space_size_used_bytes'), 10)
  assert.equal(gauge(text, 'nodejs_heap_space_size_used_bytes', 'space="old"'), 20)
  assert.equal(gauge(text, 'nodejs_heap_space_size_used_bytes', 'space="code"'), undefined)
})
