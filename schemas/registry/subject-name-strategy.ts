/**
 * Confluent's subject name strategies: which registry subject a topic's key or value schema lives
 * under. TopicNameStrategy is the default there and here.
 */
export type SubjectNameStrategy = (topic: string | undefined, isKey: boolean, recordName: string) => string

function needTopic(topic: string | undefined, strategy: string): string {
  if (topic === undefined || topic === '') {
    throw new Error(`the ${strategy} names subjects after the topic, but no topic was given (use recordNameStrategy for topic-less use)`)
  }
  return topic
}

/** `<topic>-key` / `<topic>-value`: one schema lineage per topic. */
export const topicNameStrategy: SubjectNameStrategy = (topic, isKey) => `${needTopic(topic, 'topicNameStrategy')}-${isKey ? 'key' : 'value'}`

/** The record's full name: one lineage per record type, shared by every topic that carries it. */
export const recordNameStrategy: SubjectNameStrategy = (_topic, _isKey, recordName) => recordName

/** `<topic>-<record full name>`: several record types per topic, each with its own lineage. */
export const topicRecordNameStrategy: SubjectNameStrategy = (topic, _isKey, recordName) =>
  `${needTopic(topic, 'topicRecordNameStrategy')}-${recordName}`

/** The strategies by the names Confluent's serializers use for them (`value.subject.name.strategy`). */
export const SUBJECT_NAME_STRATEGIES = {
  TopicNameStrategy: topicNameStrategy,
  RecordNameStrategy: recordNameStrategy,
  TopicRecordNameStrategy: topicRecordNameStrategy,
} as const satisfies Record<string, SubjectNameStrategy>

export type SubjectNameStrategyName = keyof typeof SUBJECT_NAME_STRATEGIES

export const isSubjectNameStrategyName = (name: string): name is SubjectNameStrategyName => Object.hasOwn(SUBJECT_NAME_STRATEGIES, name)
