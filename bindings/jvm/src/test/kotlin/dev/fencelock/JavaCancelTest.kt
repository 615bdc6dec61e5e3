package dev.fencelock

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource
import java.util.concurrent.CancellationException
import java.util.concurrent.atomic.AtomicReference
import kotlin.concurrent.thread
import kotlin.test.assertNotNull

/** The Java ways of giving up a wait: interrupting a blocked thread, cancelling a future. */
class JavaCancelTest {
    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `interrupting acquireBlocking or cancelling acquireAsync leaves no lock behind`(backend: String) {
        val ns = freshNamespace()
        val a = runBlocking { connectTo(backend, ns) }
        val b = runBlocking { connectTo(backend, ns) }
        a.use {
            b.use {
                val held = a.acquireBlocking("k")
                val failure = AtomicReference<Throwable?>()
                val waiter = thread { try { b.acquireBlocking("k").close(); error("got the lock") } catch (e: Throwable) { failure.set(e) } }
                Thread.sleep(200)
                waiter.interrupt()
                waiter.join(5_000)
                assertTrue(failure.get() is InterruptedException, "got ${failure.get()}")
                val future = b.acquireAsync("k")
                Thread.sleep(200)
                assertTrue(future.cancel(true))
                runCatching { future.join() }.exceptionOrNull().let { assertTrue(it is CancellationException, "got $it") }
                assertTrue(held.releaseBlocking())
                Thread.sleep(200)
                assertEquals(0L, b.heldCount)
                assertNull(a.getBlocking("k").holder)
                assertNotNull(a.tryAcquireBlocking("k")).close()
            }
        }
    }
}
