package dev.fencelock

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.future.future
import kotlinx.coroutines.runBlocking
import java.util.concurrent.CompletableFuture

/**
 * How the Java-facing methods run the suspend API: `*Blocking` on the calling thread (an
 * interrupt cancels the call, which leaves no lock behind), `*Async` as a [CompletableFuture]
 * (cancelling it cancels the call). Both end in the same native futures as the Kotlin API.
 */
internal object Bridge {
    /** Where futures and lost listeners run; the work itself waits in the native library. */
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    fun <T> blocking(block: suspend () -> T): T = runBlocking { block() }

    fun <T> future(block: suspend () -> T): CompletableFuture<T> = scope.future { block() }
}
