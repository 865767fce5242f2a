/**
 * Connections a task's transactional producer may open only while the task is still this
 * instance's. kafkajs cannot cancel an `initTransactions` it is retrying (a transaction coordinator
 * still loading keeps it retrying for seconds), and `producer.disconnect()` does not stop it either:
 * the next retry just reconnects. If such a retry reaches the coordinator after the task moved, its
 * InitProducerId bumps the epoch and fences the task's new owner. So the producer's client gets a
 * socket factory that refuses to connect once the task is revoked: the retry fails at connect, before
 * any request leaves, and kafkajs gives up.
 */
import { connect as netConnect, isIP } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { ISocketFactory } from 'kafkajs'

/** kafkajs' own default (not exported by it): TCP, or TLS with the host as server name. */
export const defaultSocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect) : netConnect({ host, port }, onConnect)
  socket.setKeepAlive(true, 60_000)
  return socket
}

export class TaskRevokedError extends Error {
  constructor(readonly task: string) {
    super(`task ${task} was revoked from this instance: its producer may not reach the broker again`)
    this.name = 'TaskRevokedError'
  }
}

export class RevocableConnections {
  private revokedTask: string | undefined
  /** Give this to the producer's kafkajs client. */
  readonly socketFactory: ISocketFactory

  constructor(base: ISocketFactory = defaultSocketFactory) {
    // kafkajs turns a throwing factory into a KafkaJSConnectionError, before anything is written.
    this.socketFactory = (args) => {
      if (this.revokedTask !== undefined) throw new TaskRevokedError(this.revokedTask)
      return base(args)
    }
  }

  get revoked(): boolean {
    return this.revokedTask !== undefined
  }

  /** From now on every connection attempt fails. Sockets already open are the caller's to close. */
  revoke(task: string): void {
    this.revokedTask = task
  }
}
