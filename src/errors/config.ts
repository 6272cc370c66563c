// Configuration, usage and store errors of the registry (src/errors.ts): bad tandem.yaml, CLI usage,
// a store that cannot be opened or trusted.
import { define } from './define.js'

export const CONFIG_ERRORS = define({
  // --- usage and configuration -----------------------------------------------------------------
  TANDEM_ERR_USAGE: { message: '{detail}. Run `tandem --help` for usage.', status: 400, exit: 2 },
  TANDEM_ERR_CONFIG_NOT_FOUND: {
    message: 'Config file {file} not found. Create one with `tandem init` or pass -c FILE.',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_PARSE: { message: '{detail}. Fix the YAML syntax at the position shown.', status: 400, exit: 2 },
  TANDEM_ERR_CONFIG_INVALID: {
    message: '{count} error(s) in {file}; each is listed with its position. Fix them and run `tandem validate`.',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_TYPE: { message: '{detail}; see tandem.schema.json for the expected shape', status: 400, exit: 2 },
  TANDEM_ERR_CONFIG_UNKNOWN_KEY: {
    message: 'unknown key "{key}"; remove it or check its spelling',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_KIND: {
    message: '`{key}` applies to {appliesTo}, not to a {kind} system; a {kind} system takes {takes}',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_REQUIRED: { message: 'required key is missing: {detail}', status: 400, exit: 2 },
  TANDEM_ERR_CONFIG_DURATION: {
    message: 'expected a duration such as "500ms", "10s", "5m" or "2h", got {value}',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_SIZE: {
    message: 'expected a size such as 512KiB, 1MiB or a byte count, got {value}',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_THRESHOLD: {
    message: 'expected a rule such as ">= 0.8", "< 0.05" or "> 2x", got {value}',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_DUPLICATE_SYSTEM: {
    message: 'system name "{name}" is used more than once; system names must be unique',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_UNKNOWN_WAVE: {
    message: 'wave "{name}" is not declared under `waves`; declare it or fix the name',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_UNKNOWN_SYSTEM: {
    message: 'system "{name}" is not declared under `systems`; declare it or fix the name',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_CYCLE: {
    message: 'dependsOn forms a cycle: {cycle}; remove one of these dependencies',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_ENV_MISSING: {
    message: 'environment variable {name} is not set (referenced as env:{name}); export it before starting',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_TOO_LARGE: {
    message: '{file} is too large to load: {detail}; shrink it (settings shared by systems belong under `defaults`)',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_ALIAS: {
    message: '{detail}; YAML aliases (*name) must follow their anchor (&name) and stay small',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_TOO_MANY_ERRORS: {
    message: 'and {more} more error(s) not listed; fix the ones above and run `tandem validate` again',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_CONFIG_EXISTS: { message: '{file} already exists; pass --force to overwrite it', status: 409, exit: 2 },

  // --- store --------------------------------------------------------------------------------------
  TANDEM_ERR_STORE_URL: {
    message: 'store "{url}" is not supported; use sqlite:PATH or postgres://user@host/db',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_STORE_OPEN: {
    message: 'cannot open the store {url}: {detail}; check the URL and that the database runs and accepts this user',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_STORE_EMPTY: {
    message:
      'store file {file} exists but is empty (0 bytes), so it holds no rollout state to resume; restore it from a ' +
      'backup, or delete it to start a fresh store',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_STORE_CORRUPT: {
    message:
      'store file {file} is damaged ({detail}); stop tandem and restore the file from a backup, or rebuild it with ' +
      '`sqlite3 {file} .recover`',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_STORE_LOCKED: {
    message:
      'store file {file} is in use by another `tandem up` (pid {pid}, lock {lock}); stop that one first or give ' +
      'this one another store. If no tandem runs with pid {pid}, delete {lock}',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_STORE_CONFLICT: {
    message: 'state of system "{system}" changed concurrently; retry the action',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_LEASE_LOST: {
    message:
      'this instance ({holder}) no longer holds the controller lease (its term {token}, the store is at {current}); ' +
      'its write was refused and the current holder decides',
    status: 409,
    exit: 2,
  },
})
