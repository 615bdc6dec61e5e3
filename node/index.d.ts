// Public types of the `fencelock` package: the Johnny Locke API plus fencelock's extras.
// (binding.d.ts holds the generated declarations of the native addon underneath.)

/** A read-only view of a stored value. */
export interface Readable<T> {
  value: Readonly<T> | null
}

/** A held lock's value; `releaseLock(key, writable)` writes `value` back. */
export interface Writable<T> {
  value: T | null
  lockId: string
  update(value: T | null): Writable<T>
}

/** The Writable this package returns, with fencelock's extras. */
export interface LockHandle<T> extends Writable<T> {
  update(value: T | null): LockHandle<T>
  /** Fencing token: strictly greater than every earlier acquisition's token of the key. */
  readonly fencingToken: bigint
  /** The key this lock is on. */
  readonly key: string
  /** 'lost' once the lease lapsed or another holder took over: writes are refused. */
  readonly status: 'held' | 'lost' | 'released'
  /** Time left on the lease by this process's clock, in ms. */
  readonly remainingMs: number
  /** Aborts (with a FencelockError, code ERR_FENCELOCK_EXPIRED) when the lock is lost. */
  readonly lost: AbortSignal
  /** Calls `callback` once when the lock is lost; never after a release. */
  onLost(callback: (reason: FencelockError) => void): void
}

export interface LockConfiguration {
  /** Bucket (NATS) or key prefix (Redis) holding the locks. */
  namespace: string
  /** How long locks are held before they expire, unless lockDuration overrides it. */
  defaultLockDurationMs: number
  /** Values expire this long after their last write (default: kept). */
  objectExpiryMs?: number
  /** Copies of every write, counting the primary: NATS stream replicas (1-5); Redis writes WAIT for replication - 1 replicas. Refused by memory. */
  replication?: number
  /** Redis: how long WAIT may take (default 1000). Refused by NATS and memory. */
  replicationTimeoutMs?: number
  /** fencelock extra: renew leases while held (default false, as in Johnny Locke). */
  autoRenew?: boolean
  /** Storage of a new NATS bucket (default 'file'); an existing bucket must match. Refused by Redis and memory. */
  storage?: 'file' | 'memory'
  /**
   * NATS: judge lease expiry by observation alone (a client takes over a lock only after seeing
   * it unchanged for a whole lease) also on nats-server 2.11+, where the server's clock decides
   * by default. Servers before 2.11 always work this way. Refused by Redis and memory.
   */
  clockFree?: boolean
}

/** Per-call options (fencelock extra). */
export interface CallOptions {
  /** Gives the call up; it rejects with `signal.reason`. */
  signal?: AbortSignal
}

/** A lock holder as recorded in the store. */
export interface Holder {
  lockId: string
  fencingToken: bigint
  leaseMs: number
  label: string
}

export interface CampaignOptions extends CallOptions {
  /** Recorded as the leader's label (default `pid <n>`). */
  candidate?: string
  /** How long to wait for leadership (default: until elected). */
  timeoutMs?: number
}

/** Leadership of an election, renewed while held. */
export declare class Leadership {
  private constructor()
  readonly key: string
  /** Fencing token of this term: greater than every earlier term's. */
  readonly term: bigint
  readonly isLeader: boolean
  /** Aborts when leadership is lost (not after resign()). */
  readonly lost: AbortSignal
  /** Steps down; false if leadership had already been lost. */
  resign(): Promise<boolean>
}

export interface IDistributedLock {
  /**
   * Waits up to timeoutMs for the lock, runs the callback on the value and writes what it
   * returns, then releases (also when it throws: the error is rethrown). A callback that
   * outlives lockDuration rejects with TimeoutError and writes nothing.
   */
  withLock<T>(
    key: string,
    timeoutMs: number,
    callback: (state: T | null) => Promise<T>,
    lockDuration?: number,
    options?: CallOptions
  ): Promise<Readable<T>>

  /** Waits up to timeoutMs for the lock; TimeoutError otherwise. */
  acquireLock<T>(key: string, timeoutMs: number, lockDuration?: number, options?: CallOptions): Promise<LockHandle<T>>

  /** Takes the lock only if it is free now. */
  tryAcquireLock<T>(key: string, lockDuration?: number): Promise<{ acquired: boolean, value: LockHandle<T> | undefined }>

  /** Writes the value and releases; false (nothing written) if the lock had expired. */
  releaseLock<T>(key: string, lockObj: Writable<T>): Promise<boolean>

  /** Waits up to timeoutMs until the lock is free and returns the value; takes no lock. */
  wait<T>(key: string, timeoutMs: number, options?: CallOptions): Promise<Readable<T>>

  /** Deletes the value and the lock; a holder's later release writes nothing. */
  delete(key: string): Promise<boolean>

  /** Releases held locks (keeping values) and closes the connection; later calls fail. */
  close(): Promise<void>

  /** fencelock extra: the value and the current holder, without locking. */
  get<T>(key: string): Promise<{ value: T | null, holder: Holder | null }>

  /** fencelock extra: campaigns for leadership of an election. */
  campaign(election: string, options?: CampaignOptions): Promise<Leadership>

  /** fencelock extra: leads only if nobody leads now. */
  tryCampaign(election: string, options?: { candidate?: string }): Promise<Leadership | null>

  /** fencelock extra: the current leader, if any. */
  leader(election: string): Promise<Holder | null>

  /** fencelock extra: this instance's lock statistics; counters only grow. */
  stats(): LockStats
}

/** Count, total and maximum of one kind of duration, in ms. */
export interface TimingStats {
  count: number
  totalMs: number
  maxMs: number
}

/** One client's lock statistics since it connected. */
export interface LockStats {
  /** Locks acquired. */
  acquisitions: number
  /** tryAcquireLock calls that found the lock held. */
  tryMisses: number
  /** Acquisitions (and waits) that gave up at their timeout. */
  timeouts: number
  /** From calling acquire to holding the lock, for successful acquisitions. */
  wait: TimingStats
  /** From acquiring to releasing or losing, per lock. */
  hold: TimingStats
  /** Leases renewed. */
  renewals: number
  /** Renewals that failed. */
  renewalFailures: number
  /** Locks lost: lease lapsed, renewal refused, or broken by someone else. */
  locksLost: number
  /** Operations that failed with a backend (server, network) error. */
  backendErrors: number
}

/** nats.js-style connection options (the subset fencelock uses). */
export interface NatsConnectOptions {
  servers?: string | string[]
  token?: string
  user?: string
  pass?: string
  /** Connect timeout in ms. */
  timeout?: number
  /** Connection name, recorded as the holder label. */
  name?: string
  /** Require TLS; certificates as PEM file paths. */
  tls?: boolean | TlsOptions
}

/** TLS settings (nats.js names). PEM contents (`ca`, `cert`, `key`) are not accepted: pass files. */
export interface TlsOptions {
  /** The CA that signed the server's certificate. */
  caFile?: string
  /** This client's certificate and key, for mutual TLS (both or neither). */
  certFile?: string
  keyFile?: string
  /** `false` skips certificate checks (Redis only; for tests). */
  rejectUnauthorized?: boolean
}

/** The address of a Redis node or Sentinel. */
export interface RedisNode {
  host?: string
  port: number
}

/**
 * ioredis-style connection options (the subset fencelock uses): one node, or a Sentinel group
 * with `sentinels` and `name` (the master name).
 */
export interface RedisConnectOptions {
  host?: string
  port?: number
  username?: string
  password?: string
  db?: number
  tls?: boolean | TlsOptions
  sentinels?: Array<RedisNode | string>
  name?: string
  sentinelUsername?: string
  sentinelPassword?: string
}

export declare const JetstreamDistributedLock: {
  create(connectOptions: string | NatsConnectOptions, config: LockConfiguration): Promise<IDistributedLock>
}

export declare const RedisDistributedLock: {
  /** A URL, ioredis-style options, or an array of Cluster nodes (like ioredis' `new Cluster(nodes)`). */
  create(connectOptions: string | RedisConnectOptions | Array<RedisNode | string>, config: LockConfiguration): Promise<IDistributedLock>
}

/** In-process store for unit tests: instances with one namespace share locks. */
export declare const MemoryDistributedLock: {
  create(config: LockConfiguration): Promise<IDistributedLock>
}

export type ErrorCode =
  | 'ERR_FENCELOCK_TIMEOUT'
  | 'ERR_FENCELOCK_HELD'
  | 'ERR_FENCELOCK_NOT_HELD'
  | 'ERR_FENCELOCK_EXPIRED'
  | 'ERR_FENCELOCK_INVALID_KEY'
  | 'ERR_FENCELOCK_INVALID_ARGUMENT'
  | 'ERR_FENCELOCK_INVALID_VALUE'
  | 'ERR_FENCELOCK_STATE_TOO_LARGE'
  | 'ERR_FENCELOCK_CLOSED'
  | 'ERR_FENCELOCK_BACKEND'
  | 'ERR_FENCELOCK_CALLBACK'
  | 'ERR_FENCELOCK_ABORTED'
  | 'ERR_FENCELOCK_OTHER'

export declare const ErrorCodes: Readonly<{
  TIMEOUT: 'ERR_FENCELOCK_TIMEOUT'
  HELD: 'ERR_FENCELOCK_HELD'
  NOT_HELD: 'ERR_FENCELOCK_NOT_HELD'
  EXPIRED: 'ERR_FENCELOCK_EXPIRED'
  INVALID_KEY: 'ERR_FENCELOCK_INVALID_KEY'
  INVALID_ARGUMENT: 'ERR_FENCELOCK_INVALID_ARGUMENT'
  INVALID_VALUE: 'ERR_FENCELOCK_INVALID_VALUE'
  STATE_TOO_LARGE: 'ERR_FENCELOCK_STATE_TOO_LARGE'
  CLOSED: 'ERR_FENCELOCK_CLOSED'
  BACKEND: 'ERR_FENCELOCK_BACKEND'
  CALLBACK: 'ERR_FENCELOCK_CALLBACK'
  ABORTED: 'ERR_FENCELOCK_ABORTED'
  OTHER: 'ERR_FENCELOCK_OTHER'
}>

/** Base class of every fencelock error. */
export declare class FencelockError extends Error {
  constructor(message: string, code: ErrorCode, options?: { key?: string, cause?: unknown })
  readonly code: ErrorCode
  /** The key the failed call was about, when known. */
  readonly key?: string
}

/** Acquire or wait timed out, or a withLock callback outlived its lease. */
export declare class TimeoutError extends FencelockError {
  constructor(message: string, options?: { key?: string, cause?: unknown })
  readonly code: 'ERR_FENCELOCK_TIMEOUT'
}

export declare class ReadableObject<T> implements Readable<T> {
  private constructor()
  value: Readonly<T> | null
}

export declare class WritableObject<T> implements LockHandle<T> {
  private constructor()
  value: T | null
  lockId: string
  update(value: T | null): WritableObject<T>
  readonly fencingToken: bigint
  readonly key: string
  readonly status: 'held' | 'lost' | 'released'
  readonly remainingMs: number
  readonly lost: AbortSignal
  onLost(callback: (reason: FencelockError) => void): void
}

/** Log level of the core's events forwarded to Node. */
export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/** One of the core's log events (a lock lost, a renewal failing, a watch resubscribing). */
export interface LogRecord {
  level: Exclude<LogLevel, 'off'>
  /** The Rust module that logged, e.g. `fencelock::guard`. */
  target: string
  message: string
  /** The event's other fields (e.g. `key`, `token`, `error`) as strings. */
  fields: Record<string, string>
}

/**
 * Sends the core's log events at `level` (default `'info'`) and above to `logger`;
 * `setLogger(null)` stops. Records are also published on the `fencelock:log` diagnostics
 * channel. Nothing is forwarded until a logger or level is set.
 */
export declare function setLogger(logger: ((record: LogRecord) => void) | null, options?: { level?: LogLevel }): void

/** The level of records forwarded to the logger and to the `fencelock:log` diagnostics channel. */
export declare function setLogLevel(level: LogLevel): void

/** The diagnostics channel's name, `'fencelock:log'`. */
export declare const LOG_CHANNEL: string

/** The version of the fencelock core the native addon was built from, e.g. `'0.1.0'`. */
export declare const version: string
