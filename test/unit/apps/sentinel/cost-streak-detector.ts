/** A detectors file of one rule: two calls in a row costing more than 1, per `groupBy` (plus `extra` YAML lines of the detector). */
import { type DetectorsConfig, parseDetectorsConfig } from '../../../../apps/sentinel/detectors-config.js'

export const costStreakDetectors = (groupBy: string, extra = ''): DetectorsConfig =>
  parseDetectorsConfig(`
detectors:
  - id: cost-streak
    type: rule
    strategy: consecutive
    groupBy: ${groupBy}
    metric: cost
    condition: greater_than
    value: 1
    consecutive: 2
${extra}`)
