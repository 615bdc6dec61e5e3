package dev.fencelock

import java.time.Duration
import dev.fencelock.ffi.ConnectOptions as NativeOptions

/**
 * Options of [Fencelock.connect]. Every one is optional; unset ones take the core's defaults.
 * Kotlin: `ConnectOptions().apply { namespace = "billing"; lease = Duration.ofSeconds(10) }`;
 * Java: `new ConnectOptions().namespace("billing").lease(Duration.ofSeconds(10))`.
 */
class ConnectOptions {
    /** The namespace: NATS KV bucket or Redis key prefix (default `fencelock`). */
    var namespace: String? = null

    /** Default lease of acquisitions (default 30 s), renewed automatically at [renewFraction]. */
    var lease: Duration? = null

    /** Entries expire this long after their last write (default: never). */
    var objectExpiry: Duration? = null

    /** NATS: storage of a new bucket, `"file"` (default) or `"memory"`. */
    var storage: String? = null

    /** Renew leases automatically (default true). */
    var renew: Boolean? = null

    /** Renew when this fraction of the lease has passed (default 1/3). */
    var renewFraction: Double? = null

    /** Stop renewing a lock this long after it was acquired, so it lapses (default: no cap). */
    var maxHold: Duration? = null

    /** Holder label recorded with every lock (default `pid <n>`). */
    var label: String? = null

    /** NATS token authentication. */
    var token: String? = null

    /** NATS user (with [password]). */
    var user: String? = null

    /** NATS password (with [user]). */
    var password: String? = null

    /** NATS `.creds` file. */
    var credsFile: String? = null

    /** An extra root certificate (PEM file) to trust (NATS TLS, `rediss://`). */
    var tlsRootCert: String? = null

    /** Client certificate (PEM file) for mutual TLS, with [tlsClientKey]. */
    var tlsClientCert: String? = null

    /** Client key (PEM file) for mutual TLS, with [tlsClientCert]. */
    var tlsClientKey: String? = null

    /** Refuse connections without TLS. */
    var requireTls: Boolean = false

    /** How long to try connecting (default 5 s). */
    var connectTimeout: Duration? = null

    /** NATS: judge lease expiry by observation only, also on nats-server 2.11+. */
    var clockFree: Boolean = false

    /**
     * Copies of every write, counting the primary: NATS stream replicas of a new bucket (1 to 5);
     * on Redis each write waits (`WAIT`) for `replication - 1` replicas.
     */
    var replication: Int? = null

    /** Redis: how long `WAIT` may take (default 1 s). */
    var replicationTimeout: Duration? = null

    fun namespace(v: String) = apply { namespace = v }
    fun lease(v: Duration) = apply { lease = v }
    fun objectExpiry(v: Duration) = apply { objectExpiry = v }
    fun storage(v: String) = apply { storage = v }
    fun renew(v: Boolean) = apply { renew = v }
    fun renewFraction(v: Double) = apply { renewFraction = v }
    fun maxHold(v: Duration) = apply { maxHold = v }
    fun label(v: String) = apply { label = v }
    fun token(v: String) = apply { token = v }
    fun userPassword(user: String, password: String) = apply { this.user = user; this.password = password }
    fun credsFile(v: String) = apply { credsFile = v }
    fun tlsRootCert(v: String) = apply { tlsRootCert = v }
    fun tlsClientCert(cert: String, key: String) = apply { tlsClientCert = cert; tlsClientKey = key }
    fun requireTls(v: Boolean) = apply { requireTls = v }
    fun connectTimeout(v: Duration) = apply { connectTimeout = v }
    fun clockFree(v: Boolean) = apply { clockFree = v }
    fun replication(v: Int) = apply { replication = v }
    fun replicationTimeout(v: Duration) = apply { replicationTimeout = v }

    internal fun toNative(): NativeOptions = NativeOptions(
        namespace = namespace,
        lease = lease,
        objectExpiry = objectExpiry,
        storage = storage,
        renew = renew,
        renewFraction = renewFraction,
        maxHold = maxHold,
        label = label,
        token = token,
        user = user,
        password = password,
        credsFile = credsFile,
        tlsRootCert = tlsRootCert,
        tlsClientCert = tlsClientCert,
        tlsClientKey = tlsClientKey,
        requireTls = requireTls,
        connectTimeout = connectTimeout,
        clockFree = clockFree,
        replication = replication?.let { nonNegative("replication", it).toUInt() },
        replicationTimeout = replicationTimeout,
    )
}

/**
 * Per-call options of acquire, tryAcquire and withLock; unset ones take the client's defaults.
 */
class AcquireOptions {
    /** Lease of this acquisition. */
    var lease: Duration? = null

    /** Renew the lease automatically while the guard is held (withLock never renews). */
    var renew: Boolean? = null

    /** Holder label recorded with the lock. */
    var label: String? = null

    fun lease(v: Duration) = apply { lease = v }
    fun renew(v: Boolean) = apply { renew = v }
    fun label(v: String) = apply { label = v }

    internal fun toNative() = dev.fencelock.ffi.AcquireOptions(lease, renew, label)
}

private fun nonNegative(name: String, v: Int): Int {
    if (v < 0) throw FencelockException.InvalidArgument("$name must not be negative, not $v", null, null)
    return v
}
