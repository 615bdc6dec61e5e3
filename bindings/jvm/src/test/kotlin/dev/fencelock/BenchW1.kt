package dev.fencelock

import dev.fencelock.ffi.benchCoreW1
import kotlinx.coroutines.runBlocking
import java.time.Duration
import kotlin.system.exitProcess

/**
 * W1 (uncontended acquire + release, sequential, 64 keys rotating) from Kotlin suspend calls
 * beside the Rust core's W1 in the same process against one nats-server the benchmark starts:
 * rounds alternate between the two, and the medians are compared. Target: Kotlin latency at
 * most 1.3x the core's. `make -C bindings/jvm bench` (release build of the library).
 */
object BenchW1 {
    private const val ROUNDS = 5
    private const val ROUND_SECONDS = 1.0
    private const val KEYS = 64

    @JvmStatic
    fun main(args: Array<String>) {
        val url = Servers.natsUrl
        val core = mutableListOf<Double>()
        val kotlin = mutableListOf<Double>()
        runBlocking {
            Fencelock.connect(url, ConnectOptions().namespace("jvm-bench-kotlin").label("jvm bench: Kotlin W1")).use { client ->
                val keys = (0 until KEYS).map { "kotlin-w1-$it" }
                suspend fun cycles(seconds: Double): Double {
                    val start = System.nanoTime()
                    val end = start + (seconds * 1e9).toLong()
                    var n = 0
                    while (System.nanoTime() < end) {
                        client.acquire(keys[n % KEYS], Duration.ofSeconds(30)).release()
                        n++
                    }
                    return (System.nanoTime() - start) / 1e3 / maxOf(n, 1)
                }
                cycles(1.0) // warm-up: JIT and connection
                repeat(ROUNDS) {
                    core += benchCoreW1(url, "jvm-bench-core", ROUND_SECONDS)
                    kotlin += cycles(ROUND_SECONDS)
                }
            }
        }
        val c = core.sorted()[ROUNDS / 2]
        val k = kotlin.sorted()[ROUNDS / 2]
        println("W1 NATS, $ROUNDS interleaved rounds of ${ROUND_SECONDS}s, medians:")
        println("  core   %.1f us per acquire+release  (rounds: %s)".format(c, core.joinToString { "%.0f".format(it) }))
        println("  kotlin %.1f us per acquire+release  (rounds: %s)".format(k, kotlin.joinToString { "%.0f".format(it) }))
        println("  ratio  %.2fx (target <= 1.3x)".format(k / c))
        exitProcess(0)
    }
}
