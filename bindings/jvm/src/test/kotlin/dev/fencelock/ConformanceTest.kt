package dev.fencelock

import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import kotlin.test.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource
import java.time.Duration

/** The conformance scenarios of every binding, on each backend. */
class ConformanceTest {
    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `concurrent coroutines over two clients count exactly`(backend: String) = runBlocking {
        val ns = freshNamespace()
        connectTo(backend, ns).use { a ->
            connectTo(backend, ns).use { b ->
                val perWorker = 10
                coroutineScope {
                    (0 until 8).map { i ->
                        val client = if (i % 2 == 0) a else b
                        launch {
                            repeat(perWorker) {
                                client.withLock("counter", Duration.ofSeconds(30)) { state ->
                                    ((state.text()?.toInt() ?: 0) + 1).toString().bytes()
                                }
                            }
                        }
                    }
                }
                assertEquals("80", a.get("counter").state.text())
                assertEquals(0L, a.heldCount)
                assertEquals(0L, b.heldCount)
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `tokens strictly increase across clients`(backend: String) = runBlocking {
        val ns = freshNamespace()
        connectTo(backend, ns).use { a ->
            connectTo(backend, ns).use { b ->
                var last = 0L
                repeat(10) { i ->
                    val g = (if (i % 2 == 0) a else b).acquire("fenced", Duration.ofSeconds(5))
                    assertTrue(g.token > last, "token ${g.token} after $last")
                    last = g.token
                    assertEquals(GuardStatus.HELD, g.status)
                    assertTrue(g.release("step $i".bytes()))
                    assertEquals(GuardStatus.RELEASED, g.status)
                }
                assertEquals("step 9", a.get("fenced").state.text())
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `a held lock times out other acquirers and waiters`(backend: String) = runBlocking {
        val ns = freshNamespace()
        connectTo(backend, ns).use { a ->
            connectTo(backend, ns).use { b ->
                val g = a.acquire("busy", Duration.ofSeconds(5))
                val e = assertThrows<FencelockException.Timeout> { b.acquire("busy", Duration.ofMillis(200)) }
                assertEquals("busy", e.key)
                assertEquals("timeout", e.kind)
                assertTrue(e.message!!.contains("busy"), e.message)
                assertNull(b.tryAcquire("busy"))
                assertThrows<FencelockException.Timeout> { b.wait("busy", Duration.ofMillis(200)) }
                val holder = assertNotNull(b.get("busy").holder)
                assertEquals(g.token, holder.token)
                assertEquals(g.lockId, holder.lockId)
                g.release("free".bytes())
                assertEquals("free", b.wait("busy", Duration.ofSeconds(5)).text())
                assertNull(b.get("busy").holder)
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `deleting a held lock fires the lost signal and refuses writes`(backend: String) = runBlocking {
        val ns = freshNamespace()
        connectTo(backend, ns).use { a ->
            connectTo(backend, ns).use { b ->
                val g = a.acquire("victim", Duration.ofSeconds(5), AcquireOptions().lease(Duration.ofMillis(600)))
                val heard = kotlinx.coroutines.CompletableDeferred<Unit>()
                g.onLost { heard.complete(Unit) }
                b.delete("victim")
                // The holder notices at its next renewal (a third of the lease) or write.
                withTimeout(5_000) { assertTrue(g.awaitLost()) }
                withTimeout(5_000) { heard.await() }
                assertTrue(g.isLost)
                val e = assertThrows<FencelockException.Expired> { g.put("late".bytes()) }
                assertEquals("victim", e.key)
                assertEquals(g.token, e.token)
                assertFalse(g.release("late".bytes()))
                assertEquals(0L, a.heldCount)
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `a released lock reports released, not lost`(backend: String) = runBlocking {
        connectTo(backend, freshNamespace()).use { c ->
            val g = c.acquire("calm")
            val lost = async { g.awaitLost() }
            var called = false
            g.onLost { called = true }
            g.put("kept".bytes())
            assertEquals("kept", g.state.text())
            g.refresh()
            assertTrue(g.release())
            assertFalse(lost.await())
            delay(50)
            assertFalse(called)
            assertEquals("kept", c.get("calm").state.text())
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `leader election with terms, observation and resignation`(backend: String) = runBlocking {
        val ns = freshNamespace()
        connectTo(backend, ns).use { a ->
            connectTo(backend, ns).use { b ->
                val seen = kotlinx.coroutines.channels.Channel<Holder?>(16)
                val watcher = launch { b.observeLeader("election").collect { seen.send(it) } }
                assertNull(withTimeout(5_000) { seen.receive() })
                val lead = a.campaign("election", "node-a", Duration.ofSeconds(5))
                assertTrue(lead.isLeader)
                assertEquals("node-a", withTimeout(5_000) { seen.receive() }?.label)
                assertNull(b.tryCampaign("election", "node-b"))
                assertEquals("node-a", b.leader("election")?.label)
                assertEquals(lead.term, b.leader("election")?.token)
                val next = async { b.campaign("election", "node-b", Duration.ofSeconds(10)) }
                assertTrue(lead.resign())
                assertFalse(lead.isLeader)
                val bLead = next.await()
                assertTrue(bLead.term > lead.term)
                // The observer reports the gap (nobody) and/or the new leader; it ends with node-b.
                var last: Holder? = null
                withTimeout(5_000) { while (last?.label != "node-b") last = seen.receive() }
                assertEquals(bLead.term, last!!.token)
                bLead.close()
                assertNull(a.leader("election"))
                watcher.cancel()
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `bad input gets clear errors`(backend: String) = runBlocking {
        connectTo(backend, freshNamespace()).use { c ->
            val empty = assertThrows<FencelockException.InvalidKey> { c.acquire("", Duration.ofSeconds(1)) }
            assertTrue(empty.message!!.isNotEmpty())
            assertThrows<FencelockException.InvalidKey> { c.get("k".repeat(2000)) }
            val lease = assertThrows<FencelockException.InvalidArgument> {
                c.acquire("k", Duration.ofSeconds(1), AcquireOptions().lease(Duration.ofMillis(1)))
            }
            assertEquals("k", lease.key)
            val big = ByteArray(c.maxStateLen.toInt() + 1)
            val g = c.acquire("k")
            g.use {
                val e = assertThrows<FencelockException.StateTooLarge> { g.put(big) }
                assertEquals("k", e.key)
            }
            val late = assertThrows<FencelockException.NotHeld> { g.put("after release".bytes()) }
            assertEquals(g.token, late.token)
        }
        val c = connectTo(backend, freshNamespace())
        c.close()
        assertTrue(c.isClosed)
        val closed = assertThrows<FencelockException.Closed> { c.acquire("after-close", Duration.ofSeconds(1)) }
        assertEquals("after-close", closed.key)
        Unit
    }

    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `cancelling a waiting acquire leaves no lock behind`(backend: String) = runBlocking {
        val ns = freshNamespace()
        connectTo(backend, ns).use { a ->
            connectTo(backend, ns).use { b ->
                val g = a.acquire("contended")
                val waiting = launch { b.acquire("contended").release() ; error("must not get the lock") }
                delay(200)
                waiting.cancel()
                waiting.join()
                assertTrue(g.release())
                delay(200)
                assertEquals(0L, b.heldCount)
                assertNull(a.get("contended").holder)
                // The key is free for anyone, at once.
                assertNotNull(a.tryAcquire("contended")).use { }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `acquires cancelled around the grant leave no lock behind`(backend: String) = runBlocking {
        // Free keys, so grants race the cancellation: some coroutines are cancelled before the
        // request, some while it is in flight, some after the grant but before resuming (the
        // fast path then frees the orphaned guard, which releases it).
        connectTo(backend, freshNamespace()).use { c ->
            val keys = (0 until 8).map { "race-$it" }
            repeat(200) { i ->
                val job = launch(kotlinx.coroutines.Dispatchers.Default) {
                    val g = c.acquire(keys[i % keys.size], Duration.ofSeconds(5))
                    // Only the acquire is under test: a release cut short keeps the lock held.
                    kotlinx.coroutines.withContext(kotlinx.coroutines.NonCancellable) { g.release() }
                }
                if (i % 3 != 0) delay((i % 4).toLong())
                job.cancel()
                job.join()
            }
            // Background releases of orphaned guards finish within a round trip or so.
            val deadline = System.nanoTime() + 5_000_000_000
            while (c.heldCount != 0L && System.nanoTime() < deadline) delay(20)
            assertEquals(0L, c.heldCount)
            for (k in keys) {
                assertNull(c.get(k).holder, k)
                assertNotNull(c.tryAcquire(k), k).release()
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `fast path errors carry their kind and key`(backend: String) = runBlocking {
        connectTo(backend, freshNamespace()).use { c ->
            assertThrows<FencelockException.InvalidKey> { c.acquire("", Duration.ofSeconds(1)) }
            c.acquire("busy").use {
                val e = assertThrows<FencelockException.Timeout> { c.acquire("busy", Duration.ofMillis(50)) }
                assertEquals("busy", e.key)
            }
            // Released (keeping the state) through the fast path.
            val g = c.acquire("once", Duration.ofSeconds(1))
            assertTrue(g.release())
            assertEquals(GuardStatus.RELEASED, g.status)
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["nats", "redis", "memory"])
    fun `withLock and doIfFree pass state and user exceptions`(backend: String) = runBlocking {
        connectTo(backend, freshNamespace()).use { c ->
            assertEquals("1", c.withLock("s") { "1".bytes() }.text())
            assertEquals("1", c.withLock("s") { null }.text()) // null keeps the state
            val boom = IllegalStateException("boom")
            val e = assertThrows<FencelockException.Callback> { c.withLock("s") { throw boom } }
            assertEquals(boom, e.cause)
            assertTrue(e.message!!.contains("boom"), e.message)
            assertEquals("1", c.get("s").state.text())
            var seen: String? = null
            assertTrue(c.doIfFree("s") { seen = it.text() })
            assertEquals("1", seen)
            c.acquire("s").use { assertFalse(c.doIfFree("s") { error("must not run") }) }
            assertNull(c.get("s").holder)
            val slow = assertThrows<FencelockException.Timeout> {
                c.withLock("s", options = AcquireOptions().lease(Duration.ofMillis(100))) { delay(1_000); "2".bytes() }
            }
            assertEquals("s", slow.key)
            assertEquals("1", c.get("s").state.text())
        }
    }
}
