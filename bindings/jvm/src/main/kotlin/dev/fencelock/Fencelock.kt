package dev.fencelock

import java.util.concurrent.CompletableFuture
import dev.fencelock.ffi.connect as nativeConnect
import dev.fencelock.ffi.version as nativeVersion

/** Entry point: connects a [Client]. */
object Fencelock {
    /** The version of the native library this jar carries (the core's version, e.g. `0.1.0`). */
    @JvmStatic
    fun version(): String {
        NativeSetup.ensure()
        return nativeVersion()
    }

    /**
     * Connects to [url]: `nats://host:port` (several separated by commas), `redis://…`
     * (`rediss://`, `redis+sentinel://`, `redis+cluster://`) or `memory://` (in-process).
     */
    suspend fun connect(url: String, options: ConnectOptions = ConnectOptions()): Client {
        NativeSetup.ensure()
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
