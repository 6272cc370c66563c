// The tandem library: in-process experiments and the data and event migration helpers.
export { TandemError, type ErrorCode } from './errors.js'
