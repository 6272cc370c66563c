// The public surface of the events area: adapters, dualPublish, bridge, verify and map-position.
export { openStream, type OpenOptions } from './open-stream.js'
export type { EventStream, OutgoingEvent, StoredEvent, ReadOptions } from './event-stream.js'
export {
  dualPublish,
  replay,
  type DualPublisher,
  type DualPublishOptions,
  type PublishOutcome,
} from './dual-publish.js'
export { bridge, type BridgeOptions, type BridgeResult } from './bridge.js'
export { verifyStreams, type VerifyOptions, type VerifyReport } from './verify.js'
export { mapPosition, type MapPositionOptions, type MappedPosition } from './map-position.js'
export { parseStreamUrl, type StreamUrl } from './stream-url.js'
