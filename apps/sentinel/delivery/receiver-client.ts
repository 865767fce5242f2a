/**
 * Sends deliveries to one receiver: at most `concurrency` at a time, each attempt through the
 * receiver's circuit breaker, retried with backoff while the failure is worth retrying and the
 * budget lasts. Every receiver has its own client, so a slow or dead one only ever waits on itself.
 *
 * HTTP is Node's global fetch with an AbortSignal timeout per attempt; the dispatcher's signal
 * aborts everything in flight (and any backoff wait) when it stops. Email goes over SMTP through
 * nodemailer (one transport per client), with the same timeout on connecting, greeting and the
 * socket; an SMTP 5xx answer is permanent (not retried), a 4xx or a connection failure is retried.
 */
import { setTimeout as sleepFor } from 'node:timers/promises'
import nodemailer, { type Transporter } from 'nodemailer'
import { CircuitBreaker, type CircuitPermit, type CircuitState } from './circuit-breaker.js'
import type { DeliveryRequest, EmailDeliveryRequest, HttpDeliveryRequest } from './delivery-request.js'
import type { DeliverySettings, ReceiverType } from './receivers-config.js'
import { backoffDelay, honoursRetryAfter, isRetryableStatus, retryAfterMs } from './retry-policy.js'

/** `skipped`: the receiver is disabled; `silenced`: an active silence matched the alert (delivery/silences.ts). */
export type DeliveryStatus = 'success' | 'failed' | 'circuit_open' | 'skipped' | 'silenced'

export interface DeliveryResult {
  readonly status: Exclude<DeliveryStatus, 'skipped' | 'silenced'>
  /** HTTP attempts made (0 when the circuit refused the first). */
  readonly attempts: number
  readonly lastError: string | null
  readonly httpStatus: number | null
  readonly durationMs: number
}

/** Thrown when the dispatcher's signal aborts a delivery: it has no outcome and must be redone. */
export class DeliveryAbortedError extends Error {
  constructor(receiver: string) {
    super(`delivery to receiver '${receiver}' aborted: the dispatcher is stopping`)
    this.name = 'DeliveryAbortedError'
  }
}

export interface ReceiverClientOptions {
  readonly now?: () => number
  readonly random?: () => number
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  readonly onCircuitChange?: (receiver: string, state: CircuitState) => void
  /** Called after each failed attempt that will be retried (metrics). */
  readonly onRetry?: (receiver: string) => void
}

/** A counting semaphore: the receiver's concurrency limit. */
class Slots {
  private free: number
  private readonly waiting: (() => void)[] = []
  constructor(size: number) {
    this.free = size
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--
      return
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  }
  give(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.free++
  }
}

const ERROR_BODY_CHARS = 300

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e.name === 'TimeoutError') return `timed out after ${timeoutMs}ms`
  const cause = e.cause?.code ?? e.cause?.message
  return cause === undefined ? String(e.message ?? err) : `${e.message ?? 'request failed'}: ${cause}`
}

/** One attempt's outcome; `status` is the HTTP status, or the SMTP reply code of an email. */
type AttemptOutcome = { ok: true; status: number } | { ok: false; status: number | null; error: string; retryable: boolean; retryAfterMs: number | null }

export class ReceiverClient {
  readonly breaker: CircuitBreaker
  private readonly slots: Slots
  private readonly now: () => number
  private readonly random: () => number
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>

  constructor(
    readonly name: string,
    readonly type: ReceiverType,
    readonly settings: DeliverySettings,
    private readonly options: ReceiverClientOptions = {},
  ) {
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    this.sleep = options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal }))
    this.slots = new Slots(settings.concurrency)
    this.breaker = new CircuitBreaker(settings.circuitBreaker, this.now, (state) => options.onCircuitChange?.(name, state))
  }

  /** Delivers with retries; resolves with the outcome (never rejects, except DeliveryAbortedError). */
  async deliver(request: DeliveryRequest, signal: AbortSignal): Promise<DeliveryResult> {
    const started = this.now()
    await this.slots.take()
    try {
      return await this.attempts(request, signal, started)
    } finally {
      this.slots.give()
    }
  }

  private async attempts(request: DeliveryRequest, signal: AbortSignal, started: number): Promise<DeliveryResult> {
    const { retry } = this.settings
    let lastError: string | null = null
    let httpStatus: number | null = null
    const result = (status: DeliveryResult['status'], attempts: number): DeliveryResult => ({ status, attempts, lastError, httpStatus, durationMs: this.now() - started })
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new DeliveryAbortedError(this.name)
      const permit = this.breaker.acquire()
      if (permit === null) {
        lastError = lastError === null ? 'circuit open: the receiver failed repeatedly; not called until its cool-down passes' : `circuit opened after: ${lastError}`
        return result('circuit_open', attempt - 1)
      }
      const outcome = await this.attempt(request, permit, signal)
      httpStatus = outcome.status
      if (outcome.ok) {
        lastError = null
        return result('success', attempt)
      }
      lastError = outcome.error
      if (!outcome.retryable || attempt >= retry.maxAttempts) return result('failed', attempt)
      let wait = backoffDelay(attempt, retry, this.random)
      if (outcome.retryAfterMs !== null) {
        if (outcome.retryAfterMs > retry.maxBackoffMs) {
          lastError = `${lastError}; Retry-After ${Math.ceil(outcome.retryAfterMs / 1000)}s exceeds maxBackoff ${retry.maxBackoffMs}ms, given up`
          return result('failed', attempt)
        }
        wait = Math.max(wait, outcome.retryAfterMs)
      }
      this.options.onRetry?.(this.name)
      try {
        await this.sleep(wait, signal)
      } catch {
        throw new DeliveryAbortedError(this.name)
      }
    }
  }

  private async attempt(request: DeliveryRequest, permit: CircuitPermit, signal: AbortSignal): Promise<AttemptOutcome> {
    return request.kind === 'email' ? this.sendEmail(request, permit, signal) : this.post(request, permit, signal)
  }

  private transport: Transporter | null = null

  private async sendEmail(request: EmailDeliveryRequest, permit: CircuitPermit, signal: AbortSignal): Promise<AttemptOutcome> {
    const timeoutMs = this.settings.timeoutMs
    this.transport ??= nodemailer.createTransport({ url: request.smtpUrl, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs })
    const aborted = new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(new DeliveryAbortedError(this.name)), { once: true }))
    try {
      const { message } = request
      await Promise.race([this.transport.sendMail({ from: message.from, to: [...message.to], subject: message.subject, text: message.text, headers: { ...message.headers } }), aborted])
    } catch (err) {
      if (signal.aborted) {
        this.breaker.release(permit)
        throw new DeliveryAbortedError(this.name)
      }
      const code = (err as { responseCode?: number }).responseCode
      const permanent = code !== undefined && code >= 500
      // A refusal (5xx) means the server is up: not a health failure, as a 4xx is for HTTP.
      if (permanent) this.breaker.success(permit)
      else this.breaker.failure(permit)
      // nodemailer's messages name the host and the SMTP answer, never the URL's credentials.
      const detail = String((err as Error).message ?? err).replace(/\s+/g, ' ').slice(0, ERROR_BODY_CHARS)
      return { ok: false, status: code ?? null, error: `SMTP ${code ?? 'error'}: ${detail}`, retryable: !permanent, retryAfterMs: null }
    }
    this.breaker.success(permit)
    return { ok: true, status: 250 }
  }

  private async post(request: HttpDeliveryRequest, permit: CircuitPermit, signal: AbortSignal): Promise<AttemptOutcome> {
    const timeoutMs = this.settings.timeoutMs
    let response: Response
    try {
      const headers = request.sign === null ? request.headers : { ...request.headers, ...request.sign(this.now()) }
      response = await fetch(request.url, { method: 'POST', headers, body: request.body, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), redirect: 'manual' })
    } catch (err) {
      if (signal.aborted) {
        this.breaker.release(permit)
        throw new DeliveryAbortedError(this.name)
      }
      this.breaker.failure(permit)
      return { ok: false, status: null, error: describeFetchError(err, timeoutMs), retryable: true, retryAfterMs: null }
    }
    const status = response.status
    if (response.ok) {
      this.breaker.success(permit)
      await response.body?.cancel().catch(() => {})
      return { ok: true, status }
    }
    const text = await response.text().catch(() => '')
    const retryable = isRetryableStatus(status)
    // A 3xx (redirects are not followed: a signed body must not be re-sent elsewhere) or a 4xx other
    // than 408/429 means the receiver is up and refused this request: not a health failure.
    if (retryable) this.breaker.failure(permit)
    else this.breaker.success(permit)
    const detail = text.trim().replace(/\s+/g, ' ').slice(0, ERROR_BODY_CHARS)
    return {
      ok: false,
      status,
      error: `HTTP ${status}${detail.length > 0 ? `: ${detail}` : ''}`,
      retryable,
      retryAfterMs: honoursRetryAfter(status) ? retryAfterMs(response.headers.get('retry-after'), this.now()) : null,
    }
  }
}
