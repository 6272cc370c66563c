// The tandem library: in-process experiments and the data and event migration helpers.
export { TandemError, type ErrorCode } from './errors.js'
export { experiment, enginePublisher, Experiment, type ExperimentOptions, type ExperimentResult, type Observation, type Publisher } from './compare/experiment.js'
