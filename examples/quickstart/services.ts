// The quickstart's sample services: a "legacy" todo API on 127.0.0.1:9001 and its "candidate"
// rewrite on 127.0.0.1:9002 (same answers, plus one deliberate difference to find in `tandem diffs`).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

interface Todo {
  id: number
  title: string
  done: boolean
  updatedAt: string
}

function todoApi(name: string, port: number, rewrite: boolean): void {
  const todos = new Map<number, Todo>([
    [1, { id: 1, title: 'write the migration plan', done: true, updatedAt: new Date().toISOString() }],
    [2, { id: 2, title: 'mirror traffic to the rewrite', done: false, updatedAt: new Date().toISOString() }],
  ])
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'x-served-by': name })
    res.end(text)
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname === '/health') return send(res, 200, { ok: true })
    if (url.pathname === '/todos' && req.method === 'GET') {
      // The rewrite pages its list: a real difference `tandem diffs` reports.
      const items = [...todos.values()]
      return send(res, 200, rewrite ? { items, page: 1 } : { items })
    }
    const m = /^\/todos\/(\d+)$/.exec(url.pathname)
    if (m && req.method === 'GET') {
      const todo = todos.get(Number(m[1]))
      return todo
        ? send(res, 200, { ...todo, updatedAt: new Date().toISOString() })
        : send(res, 404, { error: 'not found' })
    }
    send(res, 404, { error: 'not found' })
  })
  server.listen(port, '127.0.0.1', () => process.stdout.write(`${name} todo API on http://127.0.0.1:${port}\n`))
}

todoApi('legacy', 9001, false)
todoApi('candidate', 9002, true)
