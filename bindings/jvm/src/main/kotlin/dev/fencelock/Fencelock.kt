package dev.fencelock

import java.util.concurrent.CompletableFuture
import dev.fencelock.ffi.connect as nativeConnect

/** Entry point: connects a [Client]. */
object Fencelock {
    /**
     * Connects to [url]: `nats://host:port` (several separated by commas), `redis://…`
     * (`rediss://`, `redis+sentinel://`, `redis+cluster://`) or `memory://` (in-process).
     */
    suspend fun connect(url: String, options: ConnectOptions = ConnectOptions()): Client {
        val native = options.toNative()
        return Client(translated { nativeConnect(url, native) })
    }

    /** [connect], blocking the calling thread (Java). */
    @JvmStatic
    @JvmOverloads
    fun connectBlocking(url: String, options: ConnectOptions = ConnectOptions()): Client =
        Bridge.blocking { connect(url, options) }

    /** [connect] as a [CompletableFuture] (Java). */
    @JvmStatic
    @JvmOverloads
    fun connectAsync(url: String, options: ConnectOptions = ConnectOptions()): CompletableFuture<Client> =
        Bridge.future { connect(url, options) }
}
