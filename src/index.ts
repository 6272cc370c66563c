// The tandem library: in-process experiments, the flag adapter and the data and event migration helpers.
export { TandemError, type ErrorCode } from './errors.js'
export {
  experiment,
  enginePublisher,
  Experiment,
  type ExperimentOptions,
  type ExperimentResult,
  type Observation,
  type Publisher,
} from './compare/experiment.js'
export { dualWrite, type DualWriteOptions, type DualWriter } from './data/dual-write.js'
export { shadowRead, type ShadowReadOptions, type ShadowReader, type ShadowMismatch } from './data/shadow-read.js'
export {
  dualPublish,
  replay,
  openStream,
  verifyStreams,
  bridge,
  mapPosition,
  type DualPublisher,
  type PublishOutcome,
  type EventStream,
  type VerifyOptions,
  type VerifyReport,
} from './events/index.js'
export { adapter, type Adapted, type AdapterOptions, type Implementations } from './flags/adapter.js'
export { FlagFollower, type FollowOptions } from './flags/follow.js'
