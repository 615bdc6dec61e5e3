package dev.fencelock

import com.sun.jna.Memory
import com.sun.jna.Native
import kotlinx.coroutines.CancellableContinuation
import kotlinx.coroutines.suspendCancellableCoroutine
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicLong
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException
import dev.fencelock.ffi.FencelockException as NativeError
import dev.fencelock.ffi.fastTakeError

/**
 * The hot path (bindings/jvm/src/fast.rs): `acquire` without options and `release` keeping the
 * state, as direct-mapped native functions with primitive arguments. A call starts the core's
 * operation on the core runtime and returns; one daemon thread ("fencelock-completions") waits
 * in the library for finished operations and resumes their coroutines. Through uniffi's
 * generated code the same call is about seven native calls, each allocating JNA structures, plus
 * a JNA callback per wake-up; here it is one call out and a share of one call back.
 */
internal object FastLib {
    init {
        // The library the generated bindings load (same name and override property).
        Native.register(
            FastLib::class.java,
            System.getProperty("uniffi.component.fencelock_jvm.libraryOverride") ?: "fencelock_jvm",
        )
    }

    external fun fencelock_jvm_fast_acquire(client: Long, key: ByteArray, keyLen: Int, timeoutNanos: Long, id: Long)

    external fun fencelock_jvm_fast_release(guard: Long, id: Long)

    external fun fencelock_jvm_fast_noop(x: Long, id: Long)

    external fun fencelock_jvm_fast_cancel(id: Long)

    external fun fencelock_jvm_fast_next(out: Memory, capacity: Int, timeoutMs: Long): Int
}

/** What a finished fast operation returned (the meaning of [a] and [b] depends on the call). */
internal class Done(@JvmField val a: Long, @JvmField val b: Long)

internal object FastOps {
    private const val DONE = 0L
    private const val FAILED = 1L
    private const val CANCELLED = 2L
    private const val BATCH = 64
    private const val COMPLETION_BYTES = 32L

    private class Waiter(val cont: CancellableContinuation<Done>, val orphan: ((Done) -> Unit)?)

    private val ids = AtomicLong()
    private val waiting = ConcurrentHashMap<Long, Waiter>()

    private val pump = Thread(::drain, "fencelock-completions").apply {
        isDaemon = true
        start()
    }

    /**
     * Starts an operation with [start] (given its id) and suspends until it finishes. Cancelling
     * the coroutine cancels the operation; [orphan] gets a result that arrived for a coroutine
     * already cancelled (for an acquire: the guard, to be freed, which releases it).
     */
    suspend fun call(orphan: ((Done) -> Unit)?, start: (Long) -> Unit): Done {
        pump // started on first use
        val id = ids.incrementAndGet()
        return suspendCancellableCoroutine { cont ->
            waiting[id] = Waiter(cont, orphan)
            try {
                start(id)
            } catch (e: Throwable) {
                waiting.remove(id)
                throw e
            }
            cont.invokeOnCancellation { FastLib.fencelock_jvm_fast_cancel(id) }
        }
    }

    /** The completion thread: never runs user code itself (resuming dispatches the coroutine). */
    private fun drain() {
        val buf = Memory(BATCH * COMPLETION_BYTES)
        while (true) {
            val n = try {
                FastLib.fencelock_jvm_fast_next(buf, BATCH, 60_000)
            } catch (e: Throwable) {
                // Keep going: every waiter depends on this thread.
                e.printStackTrace()
                0
            }
            for (i in 0 until n) {
                val at = i * COMPLETION_BYTES
                try {
                    complete(buf.getLong(at), buf.getLong(at + 8), buf.getLong(at + 16), buf.getLong(at + 24))
                } catch (e: Throwable) {
                    e.printStackTrace()
                }
            }
        }
    }

    private fun complete(id: Long, kind: Long, a: Long, b: Long) {
        val w = waiting.remove(id)
        when (kind) {
            DONE -> {
                val done = Done(a, b)
                if (w == null) return
                val orphan = w.orphan
                if (orphan == null) {
                    w.cont.resume(done)
                } else {
                    w.cont.resume(done) { _, value, _ -> orphan(value) }
                }
            }
            FAILED -> {
                val error = try {
                    fastTakeError(id)
                    IllegalStateException("fast operation $id failed without an error")
                } catch (e: NativeError) {
                    e.toPublic()
                }
                w?.cont?.resumeWithException(error)
            }
            CANCELLED -> w?.cont?.cancel()
        }
    }
}
