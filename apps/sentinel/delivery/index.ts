/** Alert delivery: receivers file, payloads, retries, circuit breakers and the AlertDispatcher. */
export { AlertDispatcher, DispatcherStoppedError, DEFAULT_ALERTS_TOPIC, DEFAULT_DELIVERIES_TOPIC, DEFAULT_DISPATCHER_GROUP, type AlertDispatcherOptions } from './alert-dispatcher.js'
export type { DeliveryRecord } from './delivery-record.js'
export type { DeliveryStatus } from './receiver-client.js'
export type { CircuitState } from './circuit-breaker.js'
export {
  DEFAULT_RECEIVERS_PATH,
  ReceiversConfigError,
  checkReferences,
  describeReceiverIssue,
  loadReceiversConfig,
  parseReceiversConfig,
  referenceIssues,
  type ReceiverConfig,
  type ReceiversConfig,
  type RuleActions,
} from './receivers-config.js'
export { DEFAULT_SIGNATURE_TOLERANCE_MS, SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook, verifyWebhookSignature, type WebhookVerification } from './webhook-signature.js'
