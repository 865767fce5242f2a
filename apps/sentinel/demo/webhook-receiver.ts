/**
 * A local webhook receiver for the demo: a plain node:http server on 127.0.0.1 that takes the alert
 * dispatcher's signed deliveries (POST /<receiver name>), checks each X-Sentinel-Signature against the
 * raw body with `verifyWebhookSignature`, as a real receiver must, and reports every delivery.
 * A delivery with a bad signature is answered 401 (and counted): the demo fails on it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import { verifyWebhookSignature, type WebhookVerification } from '../delivery/webhook-signature.js'

export interface ReceivedDelivery {
  /** The receiver name, from the request path. */
  readonly receiver: string
  readonly verification: WebhookVerification
  /** The parsed AlertEvent; null when the signature did not verify or the body is not an alert. */
  readonly alert: AlertEvent | null
  /** Wall clock at receipt, epoch ms. */
  readonly at: number
}

export interface WebhookReceiverOptions {
  readonly secret: string
  readonly onDelivery?: (delivery: ReceivedDelivery) => void
}

export interface WebhookReceiver {
  /** Base URL, e.g. http://127.0.0.1:41234 (a receiver's URL is `${url}/${name}`). */
  readonly url: string
  readonly deliveries: readonly ReceivedDelivery[]
  close(): Promise<void>
}

const MAX_BODY = 1024 * 1024

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) request.destroy(new Error(`body over ${MAX_BODY} bytes`))
      else chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks)))
    request.on('error', reject)
  })
}

export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const deliveries: ReceivedDelivery[] = []
  const server: Server = createServer((request, response) => {
    void (async () => {
      if (request.method !== 'POST') {
        response.writeHead(405).end()
        return
      }
      // Verify against the exact bytes received, before any parsing.
      const body = await readBody(request)
      const verification = verifyWebhookSignature(body, request.headers, options.secret)
      let alert: AlertEvent | null = null
      if (verification.ok) {
        try {
          alert = JSON.parse(body.toString('utf8')) as AlertEvent
        } catch {
          alert = null
        }
      }
      const delivery: ReceivedDelivery = { receiver: decodeURIComponent((request.url ?? '/').slice(1)), verification, alert, at: Date.now() }
      deliveries.push(delivery)
      options.onDelivery?.(delivery)
      response.writeHead(verification.ok ? 204 : 401).end()
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500)
      response.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
