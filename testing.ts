/** `sentinel-streams/testing`: run a topology without Kafka, record by record, in a unit test. */
export * from './runtime/testing/index.js'
