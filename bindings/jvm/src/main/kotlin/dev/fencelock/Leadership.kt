package dev.fencelock

import kotlinx.coroutines.launch
import java.io.Closeable
import java.util.concurrent.CompletableFuture
import dev.fencelock.ffi.Leadership as NativeLeadership

/**
 * Leadership of one election, held (and renewed) until [resign], [close] or loss. The [term]
 * is the fencing token of this term: greater than every earlier term's.
 */
class Leadership internal constructor(private val native: NativeLeadership) : Closeable {
    /** The election key. */
    val key: String = native.key()

    /** The fencing token of this term. */
    val term: Long = native.term().toLong()

    /** True while this process still leads. */
    val isLeader: Boolean get() = native.isLeader()

    /** Steps down so another candidate can lead; false if leadership was already lost. */
    suspend fun resign(): Boolean = translated { native.resign() }

    /** Suspends until leadership ends: true when lost, false when resigned. */
    suspend fun awaitLost(): Boolean = awaitEnd(native.lostSignal())

    /** Calls [listener] once if leadership is lost (not when resigning): stop leading then. */
    fun onLost(listener: Runnable) {
        val signal = native.lostSignal()
        Bridge.scope.launch { if (awaitEnd(signal)) listener.run() }
    }

    /** [resign], blocking (Java). */
    fun resignBlocking(): Boolean = Bridge.blocking { resign() }

    /** [resign] as a future (Java). */
    fun resignAsync(): CompletableFuture<Boolean> = Bridge.future { resign() }

    /** Completes with true when leadership is lost, false when resigned (Java). */
    fun lostAsync(): CompletableFuture<Boolean> = Bridge.future { awaitLost() }

    /** Resigns if still leading (blocks for one round trip; in coroutines prefer [resign]). */
    override fun close() {
        if (native.isLeader()) resignBlocking()
    }

    override fun toString() = "Leadership(key=$key, term=$term, isLeader=$isLeader)"
}
