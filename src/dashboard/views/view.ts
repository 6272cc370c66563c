// The contract of a dashboard page: load its data from the API, then render it. The shell polls load()
// and re-renders only when the data changed, so the page stays still while nothing happens.
import type { Role } from '../api.js'

export interface ViewContext {
  readonly role: Role
  /** Re-load now (after an action) instead of waiting for the next poll. */
  refresh(): void
  /** Show a message (action result or error) above the page. */
  notify(message: string, kind: 'ok' | 'error'): void
}

export interface View<T> {
  title(): string
  load(): Promise<T>
  render(data: T, ctx: ViewContext): HTMLElement
}
