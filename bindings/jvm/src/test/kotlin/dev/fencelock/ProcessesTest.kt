package dev.fencelock

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import java.util.concurrent.TimeUnit

/** JVM worker processes contending on one NATS key, as in the cross-language test. */
class ProcessesTest {
    @Test
    fun `three worker processes count exactly with increasing tokens`() {
        val url = Servers.natsUrl
        runBlocking { Fencelock.connect(url, ConnectOptions().namespace("fencelock-demo")).use { it.delete("demo/counter") } }
        val java = File(System.getProperty("java.home"), "bin/java").path
        val iterations = 15
        val workers = (1..3).map { i ->
            ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), DemoWorker::class.java.name, url, "jvm-$i", "$iterations")
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start()
        }
        val lines = workers.flatMap { p ->
            val out = p.inputStream.bufferedReader().readLines()
            assertTrue(p.waitFor(120, TimeUnit.SECONDS))
            assertEquals(0, p.exitValue(), "worker output: $out")
            out
        }
        val pairs = lines.map { line ->
            val m = Regex("""token (\d+) count (\d+)""").find(line) ?: error("unexpected line $line")
            m.groupValues[2].toLong() to m.groupValues[1].toLong()
        }.sortedBy { it.first }
        assertEquals((1L..3L * iterations).toList(), pairs.map { it.first })
        assertEquals(pairs.map { it.second }.sorted(), pairs.map { it.second })
        assertEquals(pairs.size, pairs.map { it.second }.toSet().size)
    }
}
