// Rollout controller, comparison and program errors of the registry (src/errors.ts): halts, hooks,
// Prometheus analysis, experiments, waves and reports.
import { define } from './define.js'

export const ROLLOUT_ERRORS = define({
  // --- rollout controller ---------------------------------------------------------------------------
  TANDEM_ERR_START_BLOCKED: {
    message: 'cannot start "{system}": {reasons}; fix these, or pass --force to override them (audited)',
    status: 409,
    exit: 1,
  },
  TANDEM_ERR_PROGRAM_HALTED: {
    message:
      'cannot {action} "{system}": the program is halted ({reason}); rollbacks still work. Fix the cause, then run ' +
      '`tandem program resume --reason TEXT`',
    status: 409,
    exit: 1,
  },
  TANDEM_ERR_PROGRAM_ALREADY_HALTED: {
    message: 'the program is already halted ({reason}); run `tandem program resume` once the cause is fixed',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_PROGRAM_NOT_HALTED: {
    message: 'the program is not halted; nothing to resume (`tandem status` shows its state)',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_FINALIZE_BLOCKED: {
    message:
      'cannot finalize "{system}": post-migration check {checks} failed: {detail}; fix it (`tandem check {system} ' +
      '--post` shows the output), or pass --force to override (audited)',
    status: 409,
    exit: 1,
  },
  TANDEM_ERR_HOOK_REFUSED: {
    message: 'the {hook} hook of "{system}" refused: {detail}; fix what it checks, then retry the action',
    status: 409,
    exit: 1,
  },
  TANDEM_ERR_PROMETHEUS_UNREACHABLE: {
    message:
      'Prometheus at {url} did not answer the query of custom metric "{metric}" ({detail}); ' +
      'the metric is inconclusive (the rollout holds) until it answers: check analysis.metrics[].prometheus.url',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_PROMETHEUS_QUERY: {
    message:
      'Prometheus at {url} refused the query of custom metric "{metric}" ({detail}); ' +
      'the metric is inconclusive (the rollout holds): ' +
      'fix analysis.metrics[].prometheus.query (or the credentials in its url)',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_PROMETHEUS_NO_VALUE: {
    message:
      'the query of custom metric "{metric}" for the {arm} arm gave no value ({detail}); it is inconclusive, ' +
      'never a pass: check that the series exist, and aggregate to one series (sum, max) when it gives several',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_ADMIN_RESPONSE: {
    message:
      'the tandem at {url} answered {status} unexpectedly: {detail}; check that --admin points at a tandem admin ' +
      'listener',
    status: 502,
    exit: 2,
  },

  // --- comparison ----------------------------------------------------------------------------------------
  TANDEM_ERR_EXPERIMENT_NO_CONTROL: {
    message: 'experiment "{name}" has no control; call .use(fn) with the existing behaviour before .run()',
    status: 500,
    exit: 2,
  },
  // --- program (waves, checklist, report) ------------------------------------------------------
  TANDEM_ERR_OUTPUT_WRITE: {
    message:
      'cannot write {option} {file}: {detail}; check that the directory exists and is writable, or choose another path',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_TARGETS_MISSED: {
    message: '{count} KPI target(s) missed: {missed}; the report shows every KPI against its target (program.targets)',
    status: 409,
    exit: 1,
  },
  TANDEM_ERR_REPORT_WRITE: {
    message: 'cannot write the report to {file}: {detail}; check that the directory exists and is writable',
    status: 500,
    exit: 2,
  },
})
