// The shape of one entry of the error registry (src/errors.ts) and the helper each area's part of the
// registry is declared with, so that its codes stay literal keys of ErrorCode.
export interface ErrorDefinition {
  /** Message template; `{name}` placeholders are filled from the params. */
  readonly message: string
  /** HTTP status when the error reaches a client of the gateway or the admin API. */
  readonly status: number
  /** Process exit code when the error ends a CLI command (2 usage/runtime, 1 finding). */
  readonly exit: 0 | 1 | 2
}

export const define = <T extends Record<string, ErrorDefinition>>(defs: T): T => defs
