export {
  AGGREGATION_FUNCTIONS,
  ACTION_TYPES,
  ALERT_SEVERITIES,
  AlertRulesConfigError,
  DAYS_OF_WEEK,
  DEFAULT_ALERT_RULES_PATH,
  DEFAULT_GROUPING,
  GROUPING_FIELDS,
  describeAlertRulesIssue,
  isValidTimeZone,
  loadAlertRulesConfig,
  parseAlertRulesConfig,
  type AbsoluteMaintenanceWindow,
  type AggregationFunction,
  type AlertAggregationRule,
  type AlertFilters,
  type AlertRule,
  type AlertRulesConfig,
  type AlertRulesConfigIssue,
  type AlertRulesParseOptions,
  type AlertSchedule,
  type AlertThrottling,
  type CronMaintenanceWindow,
  type DayOfWeek,
  type GroupingField,
  type MaintenanceWindow,
} from './alert-rules-config.js'
export {
  DEFAULT_ALERTING_GRACE_MS,
  DEFAULT_DEDUP_RETENTION_MS,
  DEFAULT_MAX_ANOMALY_IDS,
  addAlerting,
  addAlertManager,
  buildAlertTopology,
  type AlertTopologyOptions,
  type AlertingOptions,
} from './alert-topology.js'
export { ALERT_ID_NAMESPACE, alertId, uuidV5 } from './alert-id.js'
export { AlertingMetrics, type DropReason, type SuppressionReason } from './alerting-metrics.js'
export { ActiveSchedule, localTime, type LocalTime } from './active-schedule.js'
export { MaintenanceCalendar } from './maintenance-calendar.js'
export { CronSchedule } from './cron-schedule.js'
export { RuleMatcher, groupOf, groupingValue, type RuleMatch } from './rule-matcher.js'
export type { AlertWindowState } from './alert-window.js'
export type { ThrottleState } from './alert-rules-processor.js'
export {
  DEFAULT_CORRELATION_WINDOW_MS,
  DEFAULT_MAX_RELATED,
  addCorrelation,
  unionIds,
  withRelated,
  type AnomalyLink,
  type CorrelationSettings,
} from './anomaly-correlation.js'
