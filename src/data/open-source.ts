// Opens the data source a URL names, loading only that database's adapter (source-*.ts), the way
// events/open-stream.ts opens a broker: adapters import source.ts, never this file.
import { TandemError } from '../errors.js'
import { redactSecrets } from '../redact.js'
import type { DataSource } from './source.js'

/** Open a data source from `postgres://`, `postgresql://`, `mysql://`, `mariadb://` or `sqlite:PATH`. */
export async function openSource(url: string, options: { readonly?: boolean } = {}): Promise<DataSource> {
  const label = redactSecrets(url)
  try {
    if (/^postgres(ql)?:\/\//i.test(url)) {
      return await (await import('./source-postgres.js')).openPostgres(url, label)
    }
    if (/^(mysql|mariadb):\/\//i.test(url)) return await (await import('./source-mysql.js')).openMysql(url, label)
    if (/^sqlite:/i.test(url)) {
      return await (await import('./source-sqlite.js')).openSqlite(url, label, options.readonly ?? false)
    }
  } catch (error) {
    if (error instanceof TandemError) throw error
    const detail = (error as Error).message
    throw new TandemError('TANDEM_ERR_DATA_CONNECT', { url: label, detail }, { cause: error })
  }
  throw new TandemError('TANDEM_ERR_DATA_URL', { url: label })
}
