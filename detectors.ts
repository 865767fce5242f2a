/**
 * `sentinel-streams/detectors`: the detector cores (pure, synchronous, their state a plain object)
 * and the DSL operators that run them over state stores and emit AnomalyEvents.
 */
export * from './operators/detectors/index.js'
export * from './operators/dsl/index.js'
