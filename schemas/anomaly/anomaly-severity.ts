/** The three severity levels of an AnomalyEvent, as its schema (and every consumer of it) names them. */
export type AnomalySeverity = 'info' | 'warning' | 'critical'
