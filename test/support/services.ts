// Where the real services the tests use live. Override with environment variables; a test that needs a
// service fails (never skips) when the service is missing.
export const services = {
  postgres: process.env.TANDEM_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test',
  mariadb: process.env.TANDEM_TEST_MARIADB ?? 'mysql://root@127.0.0.1:3306/test',
  redis: process.env.TANDEM_TEST_REDIS ?? 'redis://127.0.0.1:6379',
  rabbitmq: process.env.TANDEM_TEST_RABBITMQ ?? 'amqp://guest:guest@127.0.0.1:5672',
  nats: process.env.TANDEM_TEST_NATS ?? 'nats://127.0.0.1:4222',
  chromium: process.env.TANDEM_TEST_CHROMIUM ?? '/usr/bin/chromium',
} as const

/** A name unique to this test run, for schemas, tables, streams and queues that tests create. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`
}
