// The process log of `tandem up`: pino lines on stderr, each passed through redactSecrets so that no log
// line carries a URL password or token, whatever a driver put into an error (SPEC 10).
import pino, { type DestinationStream, type Logger } from 'pino'
import { redactSecrets } from '../redact.js'

export function createLogger(destination: DestinationStream = pino.destination(2)): Logger {
  return pino({ name: 'tandem', hooks: { streamWrite: (line) => redactSecrets(line) } }, destination)
}
