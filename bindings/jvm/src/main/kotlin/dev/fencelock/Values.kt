package dev.fencelock

import java.time.Duration
import dev.fencelock.ffi.GuardStatus as NativeStatus
import dev.fencelock.ffi.Holder as NativeHolder
import dev.fencelock.ffi.KeyInfo as NativeKeyInfo
import dev.fencelock.ffi.Stats as NativeStats
import dev.fencelock.ffi.Timing as NativeTiming

/** The holder of a lock as recorded in the store. */
data class Holder(
    /** The acquisition's unique id (32 hex digits). */
    val lockId: String,
    /** The acquisition's fencing token. */
    val token: Long,
    /** The lease the holder asked for. */
    val lease: Duration,
    /** The holder's label (the candidate in elections; `pid <n>` by default). */
    val label: String,
)

/** What [Client.get] reports about a key. */
class KeyInfo(
    /** The stored state, `null` when there is none. */
    val state: ByteArray?,
    /** The current holder, `null` when free. */
    val holder: Holder?,
    /** The store's revision of the key (0 when it never existed). */
    val revision: Long,
    /** Time left on the holder's lease by the store's clock, where the store keeps one (Redis). */
    val leaseRemaining: Duration?,
)

/** Where a [LockGuard] stands. */
enum class GuardStatus {
    /** Held, lease running. */
    HELD,

    /** The lease lapsed or someone else took the lock: writes are refused. */
    LOST,

    /** Released by its holder (or by closing the client). */
    RELEASED,
}

/** Count, total and maximum of one kind of duration (mean = [total] / [count]). */
data class Timing(val count: Long, val total: Duration, val max: Duration)

/**
 * A snapshot of one client's lock statistics since it connected ([Client.stats]), the same
 * counters as every binding's. Counters only grow: a scraper computes rates from differences.
 */
data class Stats(
    /** Locks acquired (acquire, tryAcquire, withLock, campaign, ...). */
    val acquisitions: Long,
    /** tryAcquire calls that found the lock held. */
    val tryMisses: Long,
    /** Acquisitions (and waits) that gave up at their timeout. */
    val timeouts: Long,
    /** From calling acquire to holding the lock, for successful acquisitions. */
    val wait: Timing,
    /** From acquiring to releasing or losing, per lock. */
    val hold: Timing,
    /** Leases renewed by the lease keeper or [LockGuard.refresh]. */
    val renewals: Long,
    /** Renewals that failed (retried until the lease runs out). */
    val renewalFailures: Long,
    /** Locks lost: lease lapsed, renewal refused, or broken by someone else. */
    val locksLost: Long,
    /** Operations that failed with a backend (server, network) error. */
    val backendErrors: Long,
)

internal fun NativeTiming.toPublic() = Timing(count.toLong(), total, max)

internal fun NativeStats.toPublic() = Stats(
    acquisitions.toLong(), tryMisses.toLong(), timeouts.toLong(), wait.toPublic(), hold.toPublic(),
    renewals.toLong(), renewalFailures.toLong(), locksLost.toLong(), backendErrors.toLong(),
)

internal fun NativeHolder.toPublic() = Holder(lockId, token.toLong(), lease, label)

internal fun NativeKeyInfo.toPublic() =
    KeyInfo(state, holder?.toPublic(), revision.toLong(), leaseRemaining)

internal fun NativeStatus.toPublic() = when (this) {
    NativeStatus.HELD -> GuardStatus.HELD
    NativeStatus.LOST -> GuardStatus.LOST
    NativeStatus.RELEASED -> GuardStatus.RELEASED
}
