/** The TopologyTestDriver, documented in topology/README.md. */
export * from './testing/index.js'
