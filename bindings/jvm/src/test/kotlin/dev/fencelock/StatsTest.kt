package dev.fencelock

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource
import java.time.Duration
import kotlin.test.assertNotNull
import kotlin.test.assertNull

/** Client.stats (the core's counters, as every binding shows them) and Fencelock.version. */
class StatsTest {
    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `stats count acquisitions, misses, timeouts and hold times`(backend: String) = runBlocking {
        val ns = freshNamespace()
        connectTo(backend, ns).use { a ->
            connectTo(backend, ns).use { b ->
                assertEquals(0L, a.stats.acquisitions)
                val g = a.acquire("k", Duration.ofSeconds(5))
                assertNull(b.tryAcquire("k"))
                assertThrows<FencelockException.Timeout> { b.acquire("k", Duration.ofMillis(100)) }
                Thread.sleep(20)
                assertTrue(g.releaseBlocking())
                a.acquire("k2").release()
                val s = a.stats
                assertEquals(2L, s.acquisitions)
                assertEquals(2L, s.wait.count)
                assertEquals(2L, s.hold.count)
                assertTrue(s.hold.max >= Duration.ofMillis(20), "hold max ${s.hold.max}")
                assertTrue(s.hold.total >= s.hold.max)
                assertEquals(0L, s.locksLost)
                val sb = b.stats
                assertEquals(0L, sb.acquisitions)
                assertEquals(1L, sb.tryMisses)
                assertEquals(1L, sb.timeouts)
                assertEquals(0L, sb.backendErrors)
            }
        }
    }

    @Test
    fun `version is the native library's, a semantic version`() {
        val v = Fencelock.version()
        assertTrue(Regex("""\d+\.\d+\.\d+.*""").matches(v), v)
        assertNotNull(Fencelock::class.java.getMethod("version"))
    }

    @Test
    fun `release with and without a state, blocking and suspending, through the short paths`() = runBlocking {
        connectTo("memory", freshNamespace()).use { c ->
            c.acquire("k").release("one".bytes())
            assertEquals("one", c.acquire("k").let { g -> g.initialState.text().also { g.release() } })
            assertEquals("one", c.get("k").state.text())
            assertTrue(c.acquireBlocking("k", Duration.ofSeconds(1)).releaseBlocking("two".bytes()))
            val g = c.acquireBlocking("k", Duration.ofSeconds(1))
            assertEquals("two", g.initialState.text())
            assertEquals("k", g.key)
            assertEquals(32, g.lockId.length)
            assertTrue(g.releaseBlocking())
            assertEquals("two", c.get("k").state.text())
            // A timeout beyond a Long of nanoseconds waits forever rather than failing.
            c.acquire("k", Duration.ofSeconds(Long.MAX_VALUE)).release()
            assertThrows<IllegalArgumentException> { c.acquire("k", Duration.ofSeconds(-1)) }
            Unit
        }
    }
}
