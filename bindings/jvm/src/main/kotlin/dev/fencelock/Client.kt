package dev.fencelock

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import java.io.Closeable
import java.lang.ref.Reference
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.function.Consumer
import java.util.function.UnaryOperator
import dev.fencelock.ffi.Client as NativeClient
import dev.fencelock.ffi.FencelockException as NativeError
import dev.fencelock.ffi.FreeAction
import dev.fencelock.ffi.LockGuard as NativeGuard
import dev.fencelock.ffi.StateUpdate
import dev.fencelock.ffi.UniffiWithHandle

/**
 * A connection to a backend plus a namespace and defaults; connect with [Fencelock.connect].
 * Thread-safe; share one per process. [close] releases what it holds and makes later calls fail
 * with [FencelockException.Closed].
 *
 * Kotlin calls the suspend functions; Java calls the `…Blocking` and `…Async` variants.
 * Timeouts: `null` waits forever. States are bytes (`null`: none).
 */
class Client internal constructor(private val native: NativeClient) : Closeable {
    /**
     * The raw handle the fast path ([FastOps]) passes to the library: a reference of its own,
     * owned (and freed when collected) by [fastOwner], which each call keeps reachable.
     */
    private val fastHandle: Long = native.uniffiCloneHandle()
    private val fastOwner = NativeClient(UniffiWithHandle, fastHandle)

    /** The servers this client talks to. */
    val server: String get() = native.server()

    /** The client's default lease. */
    val defaultLease: Duration get() = native.defaultLease()

    /** Largest state accepted, in bytes. */
    val maxStateLen: Long get() = native.maxStateLen().toLong()

    /** Locks this client holds now. */
    val heldCount: Long get() = native.heldCount().toLong()

    /** This client's lock statistics since it connected (one native call; counters only grow). */
    val stats: Stats get() = native.stats().toPublic()

    /** True after [close]. */
    val isClosed: Boolean get() = native.isClosed()

    /**
     * Acquires [key], waiting up to [timeout] (`null`: forever); fails with
     * [FencelockException.Timeout]. Cancelling the coroutine while it waits leaves no lock behind.
     */
    suspend fun acquire(key: String, timeout: Duration? = null, options: AcquireOptions? = null): LockGuard {
        if (options == null && timeout?.isNegative != true) {
            // The common call: one direct native call, completed by the fast path's thread.
            val nanos = timeout?.nanosOrForever() ?: -1
            val bytes = key.encodeToByteArray()
            val done = FastOps.call(::freeOrphanGuard) { id ->
                FastLib.fencelock_jvm_fast_acquire(fastHandle, bytes, bytes.size, nanos, id)
                Reference.reachabilityFence(fastOwner)
            }
            return LockGuard(NativeGuard(UniffiWithHandle, done.a), key, done.b, fastHandle = done.a)
        }
        return LockGuard(translated { native.acquire(key, timeout, options?.toNative()) }, key)
    }

    /** Acquires [key] if it is free now; `null` when someone holds it. */
    suspend fun tryAcquire(key: String, options: AcquireOptions? = null): LockGuard? =
        translated { native.tryAcquire(key, options?.toNative()) }?.let { LockGuard(it, key) }

    /**
     * Runs [block] with the state of [key] under its lock and stores what it returns (`null`
     * keeps the state); returns the stored state. The lease is not renewed: a block that
     * outlives it fails with [FencelockException.Timeout] and writes nothing. An exception of
     * the block releases the lock unchanged and comes back as [FencelockException.Callback]
     * with the exception as its cause.
     */
    suspend fun withLock(
        key: String,
        timeout: Duration? = null,
        options: AcquireOptions? = null,
        block: suspend (ByteArray?) -> ByteArray?,
    ): ByteArray? {
        val thrown = UserFailure()
        val update = object : StateUpdate {
            override suspend fun update(state: ByteArray?): ByteArray? = thrown.guard(key) { block(state) }
        }
        return thrown.translated { native.withLock(key, timeout, options?.toNative(), update) }
    }

    /**
     * nlock's `Do`: runs [block] with the state only if [key] is free now, then releases
     * (keeping the state). False when the key was held and [block] did not run.
     */
    suspend fun doIfFree(key: String, block: suspend (ByteArray?) -> Unit): Boolean {
        val thrown = UserFailure()
        val action = object : FreeAction {
            override suspend fun run(state: ByteArray?) = thrown.guard(key) { block(state) }
        }
        return thrown.translated { native.doIfFree(key, action) }
    }

    /** Waits until [key] is free (takes no lock) and returns its state. */
    suspend fun wait(key: String, timeout: Duration? = null): ByteArray? =
        translated { native.wait(key, timeout) }

    /** Reads the state and holder of [key] without locking. */
    suspend fun get(key: String): KeyInfo = translated { native.get(key) }.toPublic()

    /** Deletes the lock and state of [key]; a current holder loses the lock. */
    suspend fun delete(key: String) = translated { native.delete(key) }

    /** Campaigns for leadership of [election] as [candidate], waiting up to [timeout]. */
    suspend fun campaign(election: String, candidate: String, timeout: Duration? = null): Leadership =
        Leadership(translated { native.campaign(election, candidate, timeout) })

    /** Becomes leader of [election] only if nobody leads now; `null` otherwise. */
    suspend fun tryCampaign(election: String, candidate: String): Leadership? =
        translated { native.tryCampaign(election, candidate) }?.let(::Leadership)

    /** The current leader of [election], if any. */
    suspend fun leader(election: String): Holder? = translated { native.leader(election) }?.toPublic()

    /**
     * Leadership changes of [election]: the current leader first (`null` when nobody leads),
     * then each change, driven by the store's change feed. Ends when the client closes.
     */
    fun observeLeader(election: String): Flow<Holder?> = flow {
        translated { native.observeLeader(election) }.use { observer ->
            while (true) {
                val change = observer.next() ?: break
                emit(change.leader?.toPublic())
            }
        }
    }

    /** Closes the client: releases what it holds (keeping the state), stops renewals. */
    suspend fun shutdown() = native.shutdown()

    /**
     * [shutdown], blocking. The native handle stays valid (later calls fail with
     * [FencelockException.Closed]) and is freed when this object is garbage-collected.
     */
    override fun close() = Bridge.blocking { shutdown() }

    // Java: blocking variants.

    /** [acquire], blocking (Java). */
    @JvmOverloads
    fun acquireBlocking(key: String, timeout: Duration? = null, options: AcquireOptions? = null): LockGuard =
        Bridge.blocking { acquire(key, timeout, options) }

    /** [tryAcquire], blocking (Java). */
    @JvmOverloads
    fun tryAcquireBlocking(key: String, options: AcquireOptions? = null): LockGuard? =
        Bridge.blocking { tryAcquire(key, options) }

    /** [withLock], blocking, with a plain function (Java). */
    @JvmOverloads
    fun withLockBlocking(
        key: String,
        timeout: Duration? = null,
        options: AcquireOptions? = null,
        block: UnaryOperator<ByteArray?>,
    ): ByteArray? = Bridge.blocking { withLock(key, timeout, options) { block.apply(it) } }

    /** [doIfFree], blocking (Java). */
    fun doIfFreeBlocking(key: String, block: Consumer<ByteArray?>): Boolean =
        Bridge.blocking { doIfFree(key) { block.accept(it) } }

    /** [wait], blocking (Java). */
    @JvmOverloads
    fun waitBlocking(key: String, timeout: Duration? = null): ByteArray? = Bridge.blocking { wait(key, timeout) }

    /** [get], blocking (Java). */
    fun getBlocking(key: String): KeyInfo = Bridge.blocking { get(key) }

    /** [delete], blocking (Java). */
    fun deleteBlocking(key: String) = Bridge.blocking { delete(key) }

    /** [campaign], blocking (Java). */
    @JvmOverloads
    fun campaignBlocking(election: String, candidate: String, timeout: Duration? = null): Leadership =
        Bridge.blocking { campaign(election, candidate, timeout) }

    /** [tryCampaign], blocking (Java). */
    fun tryCampaignBlocking(election: String, candidate: String): Leadership? =
        Bridge.blocking { tryCampaign(election, candidate) }

    /** [leader], blocking (Java). */
    fun leaderBlocking(election: String): Holder? = Bridge.blocking { leader(election) }

    // Java: CompletableFuture variants (cancelling the future cancels the call).

    /** [acquire] as a future (Java). */
    @JvmOverloads
    fun acquireAsync(key: String, timeout: Duration? = null, options: AcquireOptions? = null): CompletableFuture<LockGuard> =
        Bridge.future { acquire(key, timeout, options) }

    /** [tryAcquire] as a future (Java). */
    @JvmOverloads
    fun tryAcquireAsync(key: String, options: AcquireOptions? = null): CompletableFuture<LockGuard?> =
        Bridge.future { tryAcquire(key, options) }

    /** [withLock] as a future, with a plain function (Java); it runs on a pool thread. */
    @JvmOverloads
    fun withLockAsync(
        key: String,
        timeout: Duration? = null,
        options: AcquireOptions? = null,
        block: UnaryOperator<ByteArray?>,
    ): CompletableFuture<ByteArray?> = Bridge.future { withLock(key, timeout, options) { block.apply(it) } }

    /** [wait] as a future (Java). */
    @JvmOverloads
    fun waitAsync(key: String, timeout: Duration? = null): CompletableFuture<ByteArray?> =
        Bridge.future { wait(key, timeout) }

    /** [get] as a future (Java). */
    fun getAsync(key: String): CompletableFuture<KeyInfo> = Bridge.future { get(key) }

    /** [campaign] as a future (Java). */
    @JvmOverloads
    fun campaignAsync(election: String, candidate: String, timeout: Duration? = null): CompletableFuture<Leadership> =
        Bridge.future { campaign(election, candidate, timeout) }

    override fun toString() = "Client(server=$server, closed=$isClosed)"
}

/**
 * Frees a guard granted to a coroutine that was cancelled in the same instant: freeing the last
 * reference releases the lock in the background, so a cancelled acquire leaves no lock behind.
 */
private fun freeOrphanGuard(done: Done) = NativeGuard(UniffiWithHandle, done.a).destroy()

/** Nanoseconds of a non-negative timeout; -1 (wait forever) past a Long of nanoseconds (292 years). */
private fun Duration.nanosOrForever(): Long = try { toNanos() } catch (_: ArithmeticException) { -1 }

/**
 * Carries what a user block threw past the native call, so that the caller gets it as the
 * cause of [FencelockException.Callback].
 */
private class UserFailure {
    @Volatile
    var thrown: Throwable? = null

    suspend fun <T> guard(key: String, block: suspend () -> T): T = try {
        block()
    } catch (e: CancellationException) {
        throw e
    } catch (e: Throwable) {
        thrown = e
        throw NativeError.Callback(e.toString(), key, null)
    }

    inline fun <T> translated(call: () -> T): T = try {
        call()
    } catch (e: NativeError) {
        throw e.toPublic(thrown)
    }
}
