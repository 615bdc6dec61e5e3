package dev.fencelock

import kotlinx.coroutines.launch
import java.io.Closeable
import java.lang.ref.Reference
import java.time.Duration
import java.util.concurrent.CompletableFuture
import dev.fencelock.ffi.LockGuard as NativeGuard
import dev.fencelock.ffi.LostSignal as NativeLostSignal

/**
 * A held lock: the [token] to hand to the resource you protect, the [state] stored with the
 * lock, and compare-and-set writes that fail with [FencelockException.Expired] once the lock is
 * lost. [close] (and so `use {}`) releases it, keeping the state.
 */
class LockGuard internal constructor(
    private val native: NativeGuard,
    /** The key as the caller named it. */
    val key: String,
    /** The fencing token: greater than every earlier acquisition's token of this key. */
    val token: Long = native.token().toLong(),
    /** The raw handle [native] owns, for the fast path's release; 0 when unknown. */
    private val fastHandle: Long = 0,
) : Closeable {
    // Each property read is a native call (two, with the handle's reference count): the token
    // comes with the guard (or is read once), the rarely used ones on first use.

    /** This acquisition's unique id (32 hex digits). */
    val lockId: String by lazy { native.lockId() }

    /** The lease of this acquisition. */
    val lease: Duration by lazy { native.lease() }

    /** The state read when the lock was acquired (`null` for a new key). */
    val initialState: ByteArray? get() = native.initialState()

    /** The state as last written through this guard (or read at acquisition). */
    val state: ByteArray? get() = native.state()

    /** Time left on the lease by this process's clock. */
    val remaining: Duration get() = native.remaining()

    /** Held, lost or released. */
    val status: GuardStatus get() = native.status().toPublic()

    /** True once the lock was lost (lease lapsed, renewal refused, or broken by someone else). */
    val isLost: Boolean get() = native.isLost()

    /** Writes [state] (`null` clears it) and keeps the lock. */
    suspend fun put(state: ByteArray?) = translated { native.put(state) }

    /** Renews the lease now. */
    suspend fun refresh() = translated { native.refresh() }

    /**
     * Releases the lock, writing [state] if given (otherwise keeping the current state).
     * Returns false when the lock had already been lost: then nothing was written.
     */
    suspend fun release(state: ByteArray? = null): Boolean = when {
        state == null && fastHandle != 0L -> FastOps.call(null) { id ->
            FastLib.fencelock_jvm_fast_release(fastHandle, id)
            Reference.reachabilityFence(native)
        }.a != 0L
        state == null -> translated { native.releaseKeepingState() }
        else -> translated { native.release(state) }
    }

    /** Releases the lock and clears its state. */
    suspend fun releaseClearingState(): Boolean = translated { native.releaseClearingState() }

    /** Suspends until the lock is no longer held: true when it was lost, false when released. */
    suspend fun awaitLost(): Boolean = awaitEnd(native.lostSignal())

    /**
     * Calls [listener] once, on a coroutine thread, if the lock is lost (never when it is
     * released first). Stop writing to the protected resource then.
     */
    fun onLost(listener: Runnable) {
        val signal = native.lostSignal()
        Bridge.scope.launch { if (awaitEnd(signal)) listener.run() }
    }

    /** Completes with true when the lock is lost, false when it is released (Java). */
    fun lostAsync(): CompletableFuture<Boolean> = Bridge.future { awaitLost() }

    /** [put], blocking (Java). */
    fun putBlocking(state: ByteArray?) = Bridge.blocking { put(state) }

    /** [refresh], blocking (Java). */
    fun refreshBlocking() = Bridge.blocking { refresh() }

    /**
     * [release], blocking (Java). One native call that waits on the core's runtime; an
     * interrupt does not cut it short (a release is one round trip).
     */
    @JvmOverloads
    fun releaseBlocking(state: ByteArray? = null): Boolean =
        translated { if (state == null) native.releaseKeepingStateBlocking() else native.releaseBlocking(state) }

    /** [release] as a future (Java). */
    @JvmOverloads
    fun releaseAsync(state: ByteArray? = null): CompletableFuture<Boolean> = Bridge.future { release(state) }

    /**
     * Releases the lock if still held, keeping the state (blocks for one round trip; in
     * coroutines prefer [release]). Later writes fail with [FencelockException.NotHeld]. The
     * native handle is freed when this object is garbage-collected; a guard collected while
     * still held is released in the background.
     */
    override fun close() {
        if (native.status() == dev.fencelock.ffi.GuardStatus.HELD) releaseBlocking()
    }

    override fun toString() = "LockGuard(key=$key, token=$token, status=$status)"
}

/** Waits on a lost signal and frees it. */
internal suspend fun awaitEnd(signal: NativeLostSignal): Boolean = signal.use { it.untilEnded() }
