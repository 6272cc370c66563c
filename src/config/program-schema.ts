// The `program:` part of tandem.yaml (SPEC 7, the playbook of the migration strategy): the KPI targets
// the report judges, and how many rolled-back systems of one wave halt the program.
import { z } from 'zod'
import { thresholdSchema } from './primitives.js'

/** The strategy's KPI targets; each is a rule on the KPI's value, or `off`. */
export const targetsSchema = z
  .strictObject({
    validationSuccessRate: thresholdSchema.prefault('>= 0.8'),
    rollbackCount: thresholdSchema.prefault('< 5'),
    failedMigrations: thresholdSchema.prefault('== 0'),
    avgThroughputImprovement: thresholdSchema.prefault('>= 0.2'),
    avgLatencyChange: thresholdSchema.prefault('<= 0.1'),
    avgMigrationTimeHours: thresholdSchema.prefault('< 2'),
    totalDowntimeMinutes: thresholdSchema.prefault('== 0'),
  })
  .prefault({})
  .describe(
    'KPI targets: `tandem report` shows each KPI against its target; `tandem report --check` exits 1 when one is ' +
      'missed',
  )

export const programSchema = z.strictObject({
  targets: targetsSchema,
  haltAfterRollbacks: z
    .number()
    .int()
    .min(1)
    .default(3)
    .describe('this many rolled-back systems in one wave halt the program until `tandem program resume`'),
})
