package dev.fencelock

import kotlinx.coroutines.runBlocking
import java.time.Duration
import kotlin.system.exitProcess

/**
 * The demo / cross-language worker in Kotlin, like the C, Go, Python and Node ones:
 * `DemoWorker <nats_url> <worker_name> <iterations>`. Each iteration acquires "demo/counter" in
 * namespace "fencelock-demo", reads `{"count":N,"token":T,...}` (none: 0, 0), checks its own
 * token is above T, releases writing `{"count":N+1,"token":<its token>,"worker":"<name>"}` and
 * prints "<name> token <T> count <N+1>". Exits 1 on any failure.
 */
object DemoWorker {
    @JvmStatic
    fun main(args: Array<String>) {
        if (args.size != 3) {
            System.err.println("usage: DemoWorker <nats_url> <worker_name> <iterations>")
            exitProcess(2)
        }
        val (url, name, iterations) = Triple(args[0], args[1], args[2].toInt())
        val ok = try {
            runBlocking { run(url, name, iterations) }
        } catch (e: FencelockException) {
            System.err.println("$name: ${e.message}")
            false
        }
        exitProcess(if (ok) 0 else 1)
    }

    private suspend fun run(url: String, name: String, iterations: Int): Boolean {
        Fencelock.connect(url, ConnectOptions().namespace("fencelock-demo")).use { client ->
            repeat(iterations) {
                val g = client.acquire("demo/counter", Duration.ofSeconds(60))
                val state = g.initialState?.decodeToString()
                val count = state?.let { number(it, "count") } ?: 0L
                val stored = state?.let { number(it, "token") } ?: 0L
                if (g.token <= stored) {
                    System.err.println("$name: token ${g.token} is not above the stored $stored")
                    g.release()
                    return false
                }
                val next = """{"count":${count + 1},"token":${g.token},"worker":"$name"}"""
                if (!g.release(next.encodeToByteArray())) {
                    System.err.println("$name: lost the lock with token ${g.token} before writing")
                    return false
                }
                println("$name token ${g.token} count ${count + 1}")
            }
        }
        return true
    }

    /** The number after `"field":` in the flat JSON object every demo worker writes. */
    private fun number(json: String, field: String): Long? =
        Regex("\"$field\"\\s*:\\s*(\\d+)").find(json)?.groupValues?.get(1)?.toLong()
}
