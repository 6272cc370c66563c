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
    expect(parseStreamUrl('redis://127.0.0.1:6379/2?stream=orders')).toMatchObject({ kind: 'redis', connection: 'redis://127.0.0.1:6379/2', key: 'orders' })
  })

  it.each([
    ['not a url', 'not a URL'],
    ['kafka://127.0.0.1:9092/orders', 'not supported'],
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

  it('hides passwords in messages', () => {
    expect(redact('amqp://guest:secret@h:5672/%2f?stream=a')).not.toContain('secret')
    try {
      parseStreamUrl('amqp://guest:secret@h:5672/%2f')
    } catch (error) {
      expect((error as Error).message).not.toContain('secret')
    }
  })
})
