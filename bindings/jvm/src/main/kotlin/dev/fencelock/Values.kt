package dev.fencelock

import java.time.Duration
import dev.fencelock.ffi.GuardStatus as NativeStatus
import dev.fencelock.ffi.Holder as NativeHolder
import dev.fencelock.ffi.KeyInfo as NativeKeyInfo

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

internal fun NativeHolder.toPublic() = Holder(lockId, token.toLong(), lease, label)

internal fun NativeKeyInfo.toPublic() =
    KeyInfo(state, holder?.toPublic(), revision.toLong(), leaseRemaining)

internal fun NativeStatus.toPublic() = when (this) {
    NativeStatus.HELD -> GuardStatus.HELD
    NativeStatus.LOST -> GuardStatus.LOST
    NativeStatus.RELEASED -> GuardStatus.RELEASED
}
