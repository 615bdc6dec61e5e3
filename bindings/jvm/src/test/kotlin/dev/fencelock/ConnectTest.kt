package dev.fencelock

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.time.Duration

class ConnectTest {
    @Test
    fun `unsupported schemes and bad options are refused with the fix`() = runBlocking {
        val scheme = assertThrows<FencelockException.InvalidArgument> { Fencelock.connect("http://127.0.0.1:1") }
        assertTrue(scheme.message!!.contains("nats://"), scheme.message)
        val storage = assertThrows<FencelockException.InvalidArgument> {
            Fencelock.connect("memory://", ConnectOptions().storage("tape"))
        }
        assertTrue(storage.message!!.contains("\"file\""), storage.message)
        assertThrows<FencelockException.InvalidArgument> {
            Fencelock.connect("memory://", ConnectOptions().apply { user = "only-user" })
        }
        assertThrows<FencelockException.InvalidArgument> {
            Fencelock.connect("memory://", ConnectOptions().lease(Duration.ofMillis(1)))
        }
        Unit
    }

    @Test
    fun `an option the backend does not use is refused, naming it and the backend`() = runBlocking {
        val e = assertThrows<FencelockException.InvalidArgument> {
            Fencelock.connect("memory://", ConnectOptions().token("secret"))
        }
        assertTrue(e.message!!.contains("token") && e.message!!.contains("memory"), e.message)
        val r = assertThrows<FencelockException.InvalidArgument> {
            Fencelock.connect("memory://", ConnectOptions().replication(2))
        }
        assertTrue(r.message!!.contains("replication"), r.message)
        Unit
    }

    @Test
    fun `an unreachable server is a backend error naming it`() = runBlocking {
        val port = java.net.ServerSocket(0).use { it.localPort }
        val e = assertThrows<FencelockException.Backend> {
            Fencelock.connect("nats://127.0.0.1:$port", ConnectOptions().connectTimeout(Duration.ofMillis(500)))
        }
        assertTrue(e.message!!.contains("127.0.0.1:$port"), e.message)
    }

    @Test
    fun `options reach the client`() = runBlocking {
        Fencelock.connect("memory://", ConnectOptions().namespace(freshNamespace()).lease(Duration.ofSeconds(7))).use {
            assertEquals(Duration.ofSeconds(7), it.defaultLease)
            assertEquals("jvm-test", it.acquire("k", options = AcquireOptions().label("jvm-test")).use { g ->
                it.get("k").holder!!.label
            })
        }
    }
}
