export {
  TopologyTestDriver,
  TestInputTopic,
  TestOutputTopic,
  type DeadLetter,
  type PipeOptions,
  type RawInput,
  type StoredRecord,
  type TestDriverOptions,
  type TestRecord,
} from './topology-test-driver.js'
