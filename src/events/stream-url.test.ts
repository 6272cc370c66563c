// Stream URLs: the three accepted forms parse into their parts; everything else is a coded error.
import { describe, expect, it } from 'vitest'
import { TandemError } from '../errors.js'
import { parseStreamUrl, redact } from './stream-url.js'

describe('parseStreamUrl', () => {
  it('parses a JetStream URL with stream, subject and credentials', () => {
    expect(parseStreamUrl('nats://u:p@127.0.0.1:4222/ORDERS?subject=orders.>')).toMatchObject({
      kind: 'nats',
      servers: 'nats://127.0.0.1:4222',
      user: 'u',
      pass: 'p',
      stream: 'ORDERS',
      subject: 'orders.>',
    })
  })

  it('parses RabbitMQ and Redis stream URLs without the stream parameter in the connection', () => {
    expect(parseStreamUrl('amqp://guest:guest@127.0.0.1:5672/%2f?stream=orders')).toMatchObject({
      kind: 'amqp',
      connection: 'amqp://guest:guest@127.0.0.1:5672/%2f',
      stream: 'orders',
    })
    expect(parseStreamUrl('redis://127.0.0.1:6379/2?stream=orders')).toMatchObject({
      kind: 'redis',
      connection: 'redis://127.0.0.1:6379/2',
      key: 'orders',
    })
  })

  it.each([
    ['not a url', 'not a URL'],
    ['mqtt://127.0.0.1:1883/orders', 'not supported'],
    ['kafka://127.0.0.1:9092', 'topic is missing'],
    ['kafka://127.0.0.1/orders', 'is not host:port'],
    ['kafka://127.0.0.1:9092/or ders', 'not a Kafka topic name'],
    ['kafka://127.0.0.1:9092/orders?stream=x', 'unknown parameter "stream"'],
    ['kafka://u:p@127.0.0.1:9092/orders?sasl=gssapi', 'sasl "gssapi" is not supported'],
    ['kafka://127.0.0.1:9092/orders?sasl=plain', 'user:password@'],
    ['nats://127.0.0.1:4222', 'stream name is missing'],
    ['nats://127.0.0.1:4222/OR.DERS', 'not a JetStream stream name'],
    ['amqp://127.0.0.1:5672/%2f', '?stream=NAME'],
    ['redis://127.0.0.1:6379/0', '?stream=KEY'],
    ['redis://127.0.0.1:6379/x?stream=a', 'not a database number'],
    ['redis://127.0.0.1:6379/0?stream=a&queue=b', 'unknown parameter "queue"'],
  ])('rejects %s with TANDEM_ERR_EVENTS_URL', (url, detail) => {
    try {
      parseStreamUrl(url)
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(TandemError)
      expect((error as TandemError).code).toBe('TANDEM_ERR_EVENTS_URL')
      expect((error as TandemError).message).toContain(detail)
    }
  })

  it('parses a Kafka URL with several brokers, a group, TLS and SASL', () => {
    expect(parseStreamUrl('kafka://127.0.0.1:9092,127.0.0.1:9093/orders.v1?group=billing')).toMatchObject({
      kind: 'kafka',
      brokers: ['127.0.0.1:9092', '127.0.0.1:9093'],
      topic: 'orders.v1',
      group: 'billing',
      tls: false,
    })
    expect(parseStreamUrl('kafkas://app:s%40cret@b1:9094/orders?sasl=scram-sha-512')).toMatchObject({
      tls: true,
      sasl: { mechanism: 'scram-sha-512', username: 'app', password: 's@cret' },
    })
    expect(parseStreamUrl('kafka://app:pw@b1:9092/orders?tls=true')).toMatchObject({
      tls: true,
      sasl: { mechanism: 'plain' },
    })
    expect(redact('kafka://app:pw@b1:9092,b2:9092/orders')).toBe('kafka://app:***@b1:9092,b2:9092/orders')
  })

  it('hides passwords in messages', () => {
    expect(redact('amqp://guest:secret@h:5672/%2f?stream=a')).not.toContain('secret')
    try {
      parseStreamUrl('amqp://guest:secret@h:5672/%2f')
    } catch (error) {
      expect((error as Error).message).not.toContain('secret')
    }
  })
})
