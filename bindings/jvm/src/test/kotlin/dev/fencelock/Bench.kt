package dev.fencelock

import dev.fencelock.ffi.benchCoreW1
import dev.fencelock.ffi.benchCoreW3
import dev.fencelock.ffi.benchNoopAsync
import dev.fencelock.ffi.benchNoopSync
import dev.fencelock.ffi.benchNoopWake
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import java.lang.management.ManagementFactory
import java.time.Duration
import kotlin.system.exitProcess

/**
 * W1 (uncontended acquire + release, sequential, 64 keys rotating) and W3 (handoff: the holder
 * releases 5 ms after the other client started waiting; latency from release to the waiter
 * holding the lock) from Kotlin, beside the same loops of the Rust core run inside this JVM
 * (`bench_core_w1` / `bench_core_w3` of the native library), against one server per backend that
 * the benchmark starts. Rounds interleave core, Kotlin (suspend) and Java (blocking) so that the
 * machine's drift hits all of them alike; medians and the spread of the per-round ratios are
 * printed. Target: Kotlin W1 latency at most 1.3x the core's.
 *
 * `make -C bindings/jvm bench` (release build of the library), or with arguments:
 * `make -C bindings/jvm bench BENCH_ARGS="--backends nats --rounds 9 --seconds 1"`.
 */
object Bench {
    private const val KEYS = 64
    private val TIMEOUT: Duration = Duration.ofSeconds(30)
    private const val SETTLE_MS = 5L

    private class Args(argv: Array<String>) {
        var backends = listOf("nats", "redis")
        var rounds = 7
        var seconds = 1.0
        var w3Reps = 60
        var warmupSeconds = 3.0

        init {
            var i = 0
            fun value(): String = argv.getOrNull(++i) ?: error("${argv[i - 1]} needs a value")
            while (i < argv.size) {
                when (argv[i]) {
                    "--backends" -> backends = value().split(",")
                    "--rounds" -> rounds = value().toInt()
                    "--seconds" -> seconds = value().toDouble()
                    "--w3-reps" -> w3Reps = value().toInt()
                    "--warmup" -> warmupSeconds = value().toDouble()
                    else -> error("unknown argument ${argv[i]}; see Bench.kt")
                }
                i++
            }
        }
    }

    private fun median(xs: List<Double>): Double = xs.sorted().let { s ->
        if (s.size % 2 == 1) s[s.size / 2] else (s[s.size / 2 - 1] + s[s.size / 2]) / 2
    }

    private fun percentile(xs: List<Double>, p: Double): Double =
        xs.sorted().let { s -> s[minOf(s.size - 1, (p * s.size).toInt())] }

    private fun fmt(xs: List<Double>) = xs.joinToString(", ") { "%.0f".format(it) }

    private val os = ManagementFactory.getOperatingSystemMXBean() as com.sun.management.OperatingSystemMXBean

    /**
     * Runs one W1 round ([round] returns microseconds per cycle over [seconds] s plus [extra] s of
     * warm-up it does itself) and adds its latency to [lat] and this process's CPU time per cycle
     * (all threads: the JVM's, the library's runtime threads) to [cpu]. CPU time moves less with
     * the machine's load than latency does.
     */
    private inline fun w1Round(lat: MutableList<Double>, cpu: MutableList<Double>, seconds: Double, extra: Double, round: () -> Double) {
        val c0 = os.processCpuTime
        val us = round()
        val cycles = (seconds + extra) * 1e6 / us
        lat += us
        cpu += (os.processCpuTime - c0) / 1e3 / cycles
    }

    /** Microseconds per call of [call] over [n] calls: wall time and this thread's CPU time. */
    private inline fun perCall(n: Int, call: () -> Unit): Pair<Double, Double> {
        val mx = ManagementFactory.getThreadMXBean()
        val c0 = mx.currentThreadCpuTime
        val t0 = System.nanoTime()
        repeat(n) { call() }
        val wall = (System.nanoTime() - t0) / 1e3 / n
        return wall to (mx.currentThreadCpuTime - c0) / 1e3 / n
    }

    /** What crossing into the library costs, without any lock work. */
    private fun crossings() {
        repeat(2) { perCall(20_000) { benchNoopSync(1u) } } // JIT warm-up
        val sync = perCall(100_000) { benchNoopSync(1u) }
        val async = runBlocking { perCall(20_000) { benchNoopAsync(1u) } }
        val wake = runBlocking { perCall(5_000) { benchNoopWake(1u) } }
        val fast = runBlocking {
            repeat(2) { perCall(5_000) { FastOps.call(null) { id -> FastLib.fencelock_jvm_fast_noop(1, id) } } }
            perCall(5_000) { FastOps.call(null) { id -> FastLib.fencelock_jvm_fast_noop(1, id) } }
        }
        println("No-op crossings (us per call, wall / JVM thread CPU):")
        println("  sync export              %6.2f / %6.2f".format(sync.first, sync.second))
        println("  async export, ready      %6.2f / %6.2f".format(async.first, async.second))
        println("  async export, woken by a runtime thread %6.2f / %6.2f".format(wake.first, wake.second))
        println("  fast path (acquire/release's), a task completed by a runtime thread %6.2f / %6.2f".format(fast.first, fast.second))
    }

    private suspend fun kotlinW1(client: Client, seconds: Double): Double {
        val keys = (0 until KEYS).map { "kotlin-w1-$it" }
        val start = System.nanoTime()
        val end = start + (seconds * 1e9).toLong()
        var n = 0
        while (System.nanoTime() < end) {
            client.acquire(keys[n % KEYS], TIMEOUT).release()
            n++
        }
        return (System.nanoTime() - start) / 1e3 / maxOf(n, 1)
    }

    private fun javaW1(client: Client, seconds: Double): Double {
        val keys = (0 until KEYS).map { "java-w1-$it" }
        val start = System.nanoTime()
        val end = start + (seconds * 1e9).toLong()
        var n = 0
        while (System.nanoTime() < end) {
            client.acquireBlocking(keys[n % KEYS], TIMEOUT).releaseBlocking()
            n++
        }
        return (System.nanoTime() - start) / 1e3 / maxOf(n, 1)
    }

    /** W3 from Kotlin: the waiter runs on Dispatchers.Default, as the core's on a runtime thread. */
    private suspend fun kotlinW3(a: Client, b: Client, reps: Int): List<Double> = coroutineScope {
        val clients = arrayOf(a, b)
        val key = "kotlin-w3"
        var holder = 0
        var guard = a.acquire(key, TIMEOUT)
        val out = ArrayList<Double>(reps)
        repeat(reps + 5) { i ->
            val waiter = clients[1 - holder]
            val wait = async(Dispatchers.Default) { waiter.acquire(key, TIMEOUT) to System.nanoTime() }
            delay(SETTLE_MS)
            check(!wait.isCompleted) { "W3: the waiter acquired while the lock was held" }
            val releasedAt = System.nanoTime()
            check(guard.release()) { "W3: release reported the lock lost" }
            val (g, acquiredAt) = wait.await()
            guard = g
            holder = 1 - holder
            if (i >= 5) out += (acquiredAt - releasedAt) / 1e3
        }
        guard.release()
        out
    }

    private fun backend(name: String, args: Args) {
        val url = Servers.url(name)
        val core = mutableListOf<Double>()
        val kotlin = mutableListOf<Double>()
        val java = mutableListOf<Double>()
        val coreCpu = mutableListOf<Double>()
        val kotlinCpu = mutableListOf<Double>()
        val javaCpu = mutableListOf<Double>()
        val coreW3 = mutableListOf<List<Double>>()
        val kotlinW3 = mutableListOf<List<Double>>()
        val ns = "jvm-bench-${System.nanoTime()}"
        val opts = { label: String -> ConnectOptions().namespace(ns).label(label) }
        runBlocking {
            Fencelock.connect(url, opts("jvm bench: Kotlin A")).use { a ->
                Fencelock.connect(url, opts("jvm bench: Kotlin B")).use { b ->
                    // Warm-up: JIT of both paths, connections, the core's first round.
                    kotlinW1(a, args.warmupSeconds)
                    javaW1(a, args.warmupSeconds / 3)
                    benchCoreW1(url, ns, 0.3)
                    kotlinW3(a, b, 20)
                    for (r in 0 until args.rounds) {
                        // Rotate the order so that no side always runs first in a round.
                        val steps = listOf<suspend () -> Unit>(
                            // The core's round also connects and warms up for 0.2 s.
                            { w1Round(core, coreCpu, args.seconds, 0.2) { benchCoreW1(url, ns, args.seconds) } },
                            { w1Round(kotlin, kotlinCpu, args.seconds, 0.0) { kotlinW1(a, args.seconds) } },
                            { w1Round(java, javaCpu, args.seconds, 0.0) { javaW1(a, args.seconds) } },
                        )
                        for (k in steps.indices) steps[(k + r) % steps.size]()
                        if (r % 2 == 0) {
                            coreW3 += benchCoreW3(url, ns, args.w3Reps.toUInt(), SETTLE_MS.toUInt())
                            kotlinW3 += kotlinW3(a, b, args.w3Reps)
                        } else {
                            kotlinW3 += kotlinW3(a, b, args.w3Reps)
                            coreW3 += benchCoreW3(url, ns, args.w3Reps.toUInt(), SETTLE_MS.toUInt())
                        }
                    }
                }
            }
        }
        val c = median(core)
        val kRatios = kotlin.indices.map { kotlin[it] / core[it] }
        val jRatios = java.indices.map { java[it] / core[it] }
        println()
        println("== $name: ${args.rounds} interleaved rounds (W1 ${args.seconds} s per side per round, W3 ${args.w3Reps} handoffs per side per round)")
        println("W1 us per acquire+release, per round:")
        println("  core          ${fmt(core)}")
        println("  Kotlin        ${fmt(kotlin)}")
        println("  Java blocking ${fmt(java)}")
        println("W1 CPU us per cycle of this process (all threads), per round:")
        println("  core          ${fmt(coreCpu)}   (includes its connect and 0.2 s warm-up)")
        println("  Kotlin        ${fmt(kotlinCpu)}")
        println("  Java blocking ${fmt(javaCpu)}")
        println("  medians: core %.0f, Kotlin %.0f (%.2fx), Java blocking %.0f (%.2fx)".format(
            median(coreCpu), median(kotlinCpu), median(kotlinCpu) / median(coreCpu), median(javaCpu), median(javaCpu) / median(coreCpu)))
        println("| client | W1 us (median) | vs core (medians) | per-round ratio median (min-max) | W3 p50 us | W3 p99 us |")
        println("|---|---|---|---|---|---|")
        val cw3 = coreW3.flatten()
        val kw3 = kotlinW3.flatten()
        println("| Rust core | %.1f | 1.00x | | %.0f | %.0f |".format(c, percentile(cw3, 0.5), percentile(cw3, 0.99)))
        println(
            "| Kotlin suspend | %.1f | %.2fx | %.2f (%.2f-%.2f) | %.0f | %.0f |".format(
                median(kotlin), median(kotlin) / c, median(kRatios), kRatios.min(), kRatios.max(),
                percentile(kw3, 0.5), percentile(kw3, 0.99),
            ),
        )
        println(
            "| Java blocking | %.1f | %.2fx | %.2f (%.2f-%.2f) | | |".format(
                median(java), median(java) / c, median(jRatios), jRatios.min(), jRatios.max(),
            ),
        )
        val w3Ratios = coreW3.indices.map { percentile(kotlinW3[it], 0.5) / percentile(coreW3[it], 0.5) }
        println(
            "W3 p50 Kotlin / core: %.2fx pooled; per round %.2f (%.2f-%.2f)".format(
                percentile(kw3, 0.5) / percentile(cw3, 0.5), median(w3Ratios), w3Ratios.min(), w3Ratios.max(),
            ),
        )
        println("W1 ratio (Kotlin vs core, medians): %.2fx, target <= 1.3x: %s".format(median(kotlin) / c, if (median(kotlin) / c <= 1.3) "PASS" else "FAIL"))
    }

    @JvmStatic
    fun main(argv: Array<String>) {
        val args = Args(argv)
        println("fencelock ${Fencelock.version()}, Java ${System.getProperty("java.version")}, load average at start ${ManagementFactory.getOperatingSystemMXBean().systemLoadAverage}")
        crossings()
        for (b in args.backends) backend(b, args)
        println("load average at end ${ManagementFactory.getOperatingSystemMXBean().systemLoadAverage}")
        exitProcess(0)
    }
}
