import { describe, expect, it } from 'vitest'
import { clientErrorFor } from './errors.js'

describe('clientErrorFor', () => {
  it('gives a body over the limit and a refused static path their own codes, keeping their status', () => {
    expect(clientErrorFor(413, 'Request body is too large', '/api/v1/config/reload')).toMatchObject({
      code: 'TANDEM_ERR_BODY_TOO_LARGE',
      status: 413,
    })
    const forbidden = clientErrorFor(403, 'Forbidden', '/.env')
    expect(forbidden).toMatchObject({ code: 'TANDEM_ERR_PATH_FORBIDDEN', status: 403 })
    expect(forbidden.message).toContain('/.env')
    expect(clientErrorFor(400, 'bad', '/x')).toMatchObject({ code: 'TANDEM_ERR_BAD_REQUEST', status: 400 })
  })
})
