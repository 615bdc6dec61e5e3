package dev.fencelock

import java.io.File
import java.net.ServerSocket
import java.nio.file.Files
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

/**
 * Real servers for the tests on free loopback ports, as the other bindings start them:
 * nats-server with JetStream (`FENCELOCK_NATS_SERVER`, set by the Makefile and the pom to the
 * repository's pinned `.venv/bin/nats-server`) and redis-server (`FENCELOCK_REDIS_SERVER` or
 * `redis-server` on PATH). One of each per test run; [stopAll] runs at JVM exit.
 */
object Servers {
    val natsUrl: String by lazy { startNats() }
    val redisUrl: String by lazy { startRedis() }

    private val procs = mutableListOf<Pair<Process, File>>()

    init {
        Runtime.getRuntime().addShutdownHook(Thread { stopAll() })
    }

    /** The URL of [backend]: `nats`, `redis` or `memory`. */
    fun url(backend: String): String = when (backend) {
        "nats" -> natsUrl
        "redis" -> redisUrl
        "memory" -> "memory://"
        else -> error("unknown backend $backend")
    }

    @Synchronized
    private fun stopAll() {
        for ((p, dir) in procs) {
            p.destroy()
            if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly()
            dir.deleteRecursively()
        }
        procs.clear()
    }

    private fun natsBinary(): String {
        val env = System.getenv("FENCELOCK_NATS_SERVER")
        if (!env.isNullOrEmpty() && File(env).canExecute()) return env
        val venv = File("../../.venv/bin/nats-server")
        if (venv.canExecute()) return venv.absolutePath
        error("nats-server not found: set FENCELOCK_NATS_SERVER or run `make setup` in the repository root")
    }

    private fun startNats(): String {
        val dir = Files.createTempDirectory("fencelock-jvm-nats-").toFile()
        val p = ProcessBuilder(natsBinary(), "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", dir.path)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start()
        register(p, dir)
        val line = awaitLine(p, p.errorStream, "nats-server", Regex("Listening for client connections on 127\\.0\\.0\\.1:(\\d+)"))
        return "nats://127.0.0.1:${line.groupValues[1]}"
    }

    private fun startRedis(): String {
        val bin = System.getenv("FENCELOCK_REDIS_SERVER") ?: "redis-server"
        var last: Throwable? = null
        // Redis cannot pick its own port: take a free one, and retry if someone took it first.
        repeat(5) {
            val port = ServerSocket(0).use { it.localPort }
            val dir = Files.createTempDirectory("fencelock-jvm-redis-").toFile()
            val p = ProcessBuilder(
                bin, "--port", port.toString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", dir.path,
            ).redirectErrorStream(true).start()
            register(p, dir)
            try {
                awaitLine(p, p.inputStream, "redis-server", Regex("Ready to accept connections"))
                return "redis://127.0.0.1:$port"
            } catch (e: IllegalStateException) {
                last = e
            }
        }
        throw IllegalStateException("redis-server did not start", last)
    }

    @Synchronized
    private fun register(p: Process, dir: File) {
        procs += p to dir
    }

    /** Reads [stream] until [pattern] matches a line (then drains it in the background). */
    private fun awaitLine(p: Process, stream: java.io.InputStream, name: String, pattern: Regex): MatchResult {
        val lines = LinkedBlockingQueue<String>()
        thread(isDaemon = true, name = "$name-output") {
            // The stream closes when the server is stopped at exit: that ends the loop.
            runCatching { stream.bufferedReader().forEachLine { lines.put(it) } }
            lines.put("\u0000exit")
        }
        val seen = StringBuilder()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
        while (System.nanoTime() < deadline) {
            val line = lines.poll(100, TimeUnit.MILLISECONDS) ?: continue
            if (line == "\u0000exit") break
            seen.appendLine(line)
            pattern.find(line)?.let { return it }
        }
        p.destroyForcibly()
        throw IllegalStateException("$name did not start (exit ${if (p.isAlive) "none" else p.exitValue()}):\n$seen")
    }
}
