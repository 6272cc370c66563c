// The image's HEALTHCHECK: exits 0 when the admin listener's /healthz answers 200. The default matches
// the image's /etc/tandem/tandem.yaml (admin on port 8081); a config with another admin port sets
// TANDEM_HEALTHCHECK_URL.
const url = process.env.TANDEM_HEALTHCHECK_URL ?? 'http://127.0.0.1:8081/healthz'
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) })
  if (!res.ok) console.error(`${url} answered ${res.status}`)
  process.exit(res.ok ? 0 : 1)
} catch (error) {
  console.error(`${url}: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
