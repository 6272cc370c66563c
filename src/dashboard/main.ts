// The dashboard shell: sign-in (token in sessionStorage or #token=), hash routing between the overview,
// a system page and its diff explorer, and polling every 2 s with re-render only on change.
import { adoptFragmentToken, api, ApiError, setToken, token, type Whoami } from './api.js'
import { h } from './dom.js'
import { diffsView } from './views/diffs.js'
import { overview } from './views/overview.js'
import { systemView } from './views/system.js'
import type { View, ViewContext } from './views/view.js'

const POLL_MS = 2000
const app = document.getElementById('app')!
const crumbs = document.getElementById('crumbs')!
const notice = document.getElementById('notice')!
const whoamiEl = document.getElementById('whoami')!
const loginForm = document.getElementById('login') as HTMLFormElement
const tokenInput = document.getElementById('token') as HTMLInputElement
const logoutButton = document.getElementById('logout') as HTMLButtonElement
const signinButton = document.getElementById('signin') as HTMLButtonElement

let me: Whoami | null = null
let current: { hash: string; view: View<unknown>; lastData: string } | null = null
let timer: ReturnType<typeof setTimeout> | undefined
let generation = 0

function route(hash: string): View<unknown> {
  const diffs = /^#\/systems\/([^/]+)\/diffs$/.exec(hash)
  if (diffs) return diffsView(decodeURIComponent(diffs[1]!)) as View<unknown>
  const system = /^#\/systems\/([^/]+)$/.exec(hash)
  if (system) return systemView(decodeURIComponent(system[1]!)) as View<unknown>
  return overview as View<unknown>
}

function notify(message: string, kind: 'ok' | 'error'): void {
  notice.textContent = message
  notice.className = `notice ${kind}`
  notice.hidden = false
}

function setCrumbs(hash: string): void {
  crumbs.replaceChildren()
  const system = /^#\/systems\/([^/]+)/.exec(hash)?.[1]
  crumbs.append(h('a', { href: '#/' }, 'Program'))
  if (system !== undefined) {
    crumbs.append(' / ', h('a', { href: `#/systems/${system}` }, decodeURIComponent(system)))
    if (hash.endsWith('/diffs')) crumbs.append(' / ', h('a', { href: `#/systems/${system}/diffs` }, 'diffs'))
  }
}

const ctx: ViewContext = {
  get role() {
    return me?.role ?? 'viewer'
  },
  refresh: () => void tick(true),
  notify,
}

function showSignIn(message: string): void {
  me = null
  whoamiEl.textContent = ''
  logoutButton.hidden = true
  tokenInput.hidden = false
  signinButton.hidden = false
  app.replaceChildren(h('section', { class: 'signin' }, h('h1', {}, 'Sign in'), h('p', {}, message)))
}

/** Load the current page; re-render when its data changed or when forced (navigation, action). */
async function tick(force = false): Promise<void> {
  clearTimeout(timer)
  const mine = ++generation
  const hash = location.hash || '#/'
  try {
    if (me === null) {
      me = await api<Whoami>('/whoami')
      whoamiEl.textContent = me.authRequired ? `${me.name} (${me.role})` : `${me.role} (no token configured)`
      whoamiEl.dataset.role = me.role
      tokenInput.hidden = !me.authRequired || token() !== null
      signinButton.hidden = tokenInput.hidden
      logoutButton.hidden = !me.authRequired || token() === null
    }
    if (current === null || current.hash !== hash) {
      current = { hash, view: route(hash), lastData: '' }
      setCrumbs(hash)
      force = true
    }
    const view = current.view
    const data = await view.load()
    if (mine !== generation) return
    const text = JSON.stringify(data)
    if (force || text !== current.lastData) {
      current.lastData = text
      const scroll = window.scrollY
      app.replaceChildren(view.render(data, ctx))
      document.title = `Tandem · ${view.title()}`
      window.scrollTo(0, scroll)
    }
  } catch (error) {
    if (mine !== generation) return
    if (error instanceof ApiError && error.status === 401) {
      // Stop polling until the user signs in: repeated bad tokens would spend the rate-limit budget.
      generation += 1
      current = null
      showSignIn(
        token() === null
          ? 'Enter a bearer token from admin.tokens to continue.'
          : 'That token was not accepted; enter a valid one.',
      )
      return
    } else if (error instanceof ApiError && error.status === 404)
      app.replaceChildren(h('p', { class: 'error' }, error.message))
    else notify(`Cannot reach the admin API: ${error instanceof Error ? error.message : String(error)}`, 'error')
  } finally {
    if (mine === generation) timer = setTimeout(() => void tick(), POLL_MS)
  }
}

loginForm.addEventListener('submit', (event) => {
  event.preventDefault()
  setToken(tokenInput.value.trim())
  tokenInput.value = ''
  me = null
  current = null
  notice.hidden = true
  void tick(true)
})

logoutButton.addEventListener('click', () => {
  setToken(null)
  me = null
  current = null
  void tick(true)
})

window.addEventListener('hashchange', () => {
  notice.hidden = true
  void tick(true)
})

adoptFragmentToken()
void tick(true)
