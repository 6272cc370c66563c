// Event-stream and data-store migration errors of the registry (src/errors.ts): brokers, extractors,
// checkpoints, table diffs and dual writes.
import { define } from './define.js'

export const DATA_EVENTS_ERRORS = define({
  // --- events ------------------------------------------------------------------------------------------
  TANDEM_ERR_EVENTS_URL: {
    message:
      'stream URL "{url}" is not valid: {detail}. Use nats://HOST:4222/STREAM?subject=SUBJ, ' +
      'amqp://USER:PASS@HOST:5672/VHOST?stream=NAME, redis://HOST:6379/DB?stream=KEY or ' +
      'kafka://HOST:9092[,HOST:9092]/TOPIC (docs/events.md)',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_CONNECT: {
    message: 'cannot reach the broker of {url}: {detail}; check that it runs and the URL is right',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_NOT_FOUND: {
    message: 'stream "{stream}" does not exist at {url}; create it first or fix the name',
    status: 404,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_WRONG_TYPE: {
    message: '"{stream}" at {url} is {type}, not a stream; pass ?stream= with the name of {hint}',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_REDIS_DB: {
    message:
      'Redis database {db} cannot be used at {url} ({detail}); put a database number the server has in the URL path ' +
      '(0 up to its `databases` setting - 1, 0-15 by default)',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_SUBJECT: {
    message:
      'subject "{subject}" is outside JetStream stream "{stream}" at {url}, which stores {subjects}; pass a ' +
      '?subject= within those (wildcards allowed) or leave it out to read the whole stream',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_PUBLISH: {
    message: 'publishing to {url} failed: {detail}; check the broker and retry',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_POSITION: {
    message:
      'position "{position}" is not valid for {url}: {detail}; pass the position of a message stored in that stream',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_EXTRACTOR: {
    message:
      '{option} "{value}" is not valid; use a JSON path such as /orderId or $.order.id, header:NAME, message-id, or ' +
      'key (Kafka)',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_NO_ID: {
    message:
      'the message at position {position} of {url} has no id at {extractor}; pass an --id that every message has',
    status: 422,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_NO_TIME: {
    message:
      'the message at position {position} of {url} has no usable time {detail}; pass --time PATH to a timestamp in ' +
      'the payload',
    status: 422,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_GROUP: {
    message:
      'consumer group "{group}" at {url} cannot be used: {detail}; check the group name (kafka-consumer-groups ' +
      '--describe --group NAME) and stop its consumers before --commit',
    status: 409,
    exit: 2,
  },
  TANDEM_ERR_EVENTS_CHECKPOINT: {
    message: 'checkpoint file {file} cannot be used: {detail}; fix or delete it to start over',
    status: 400,
    exit: 2,
  },

  // --- data store migration ----------------------------------------------------------------------------
  TANDEM_ERR_DATA_URL: {
    message: 'database URL {url} is not supported; use postgres://user@host/db, mysql://user@host/db or sqlite:PATH',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_CONNECT: {
    message: 'cannot connect to {url}: {detail}; check the URL, credentials and that the server runs',
    status: 502,
    exit: 2,
  },
  TANDEM_ERR_DATA_TABLE_MISSING: {
    message:
      'table {table} does not exist in {url}; check the name (schema.table) or pass --to-table for a renamed table',
    status: 404,
    exit: 2,
  },
  TANDEM_ERR_DATA_COLUMN_MISSING: {
    message:
      'column {column} does not exist in table {table} of {url}; pass --columns to choose columns or --map old=new ' +
      'for a renamed column',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_NO_KEY: {
    message: 'table {table} in {url} has no primary key; pass --key with the column(s) that identify a row',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_KEY_NULL: {
    message:
      '{count} row(s) of table {table} in {url} have a NULL in key {key}, and a diff cannot place or match them; ' +
      'pass --key with column(s) that are never NULL, or leave those rows out explicitly with --where "{exclude}"',
    status: 422,
    exit: 2,
  },
  TANDEM_ERR_DATA_KEY_DUPLICATE: {
    message:
      'key {key} is not unique in table {table} of {url}: {count} key value(s) are on more than one row ({sample}), ' +
      'and a diff cannot tell those rows apart; pass --key with the column(s) that identify one row (e.g. the ' +
      'primary key)',
    status: 422,
    exit: 2,
  },
  TANDEM_ERR_DATA_UPDATED_AT: {
    message:
      'table {table} in {url} has no column {column} to find changed rows by; add it or set `updatedAt` to the ' +
      'column every write sets',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_KEY_TYPE: {
    message:
      'the key of table {table} differs in type between the sides: {detail}; give both sides the same key type or ' +
      'map the key to one that matches',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_QUERY: {
    message: 'a query on {url} failed: {detail}; check --where and the column types',
    status: 500,
    exit: 2,
  },
  TANDEM_ERR_DATA_OPTION: { message: '{detail}; see `tandem data diff --help`', status: 400, exit: 2 },
  TANDEM_ERR_DATA_LOG: {
    message: 'reconciliation log {file} line {line} is not a replayable entry: {detail}; fix or remove the line',
    status: 400,
    exit: 2,
  },
  TANDEM_ERR_DATA_SECONDARY_WRITE: {
    message: 'the write to the new store failed: {detail}; it was logged to {log} for `tandem data reconcile`',
    status: 502,
    exit: 2,
  },
})
