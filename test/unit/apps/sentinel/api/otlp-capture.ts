/** The body an OpenTelemetry exporter sends, captured from a local listener (to resend it by hand or over gRPC). */
import { createServer } from 'node:http'

/** Runs `send` against a listener at http://127.0.0.1:<port>; the last body it posted. */
export async function captureExport(send: (base: string) => Promise<unknown>, contentType = 'application/x-protobuf'): Promise<Buffer> {
  let captured = Buffer.alloc(0)
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      captured = Buffer.concat(chunks)
      response.writeHead(200, { 'content-type': contentType }).end(contentType === 'application/json' ? '{}' : undefined)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  try {
    await send(`http://127.0.0.1:${port}`)
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return captured
}
