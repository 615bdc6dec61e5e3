package dev.fencelock

import com.sun.jna.CallbackThreadInitializer
import com.sun.jna.Native
import dev.fencelock.ffi.uniffiRustFutureContinuationCallbackImpl

/**
 * Process-wide settings of the native bridge, applied once before the first native call.
 *
 * The core's runtime threads resume suspended calls through a JNA callback. By default JNA
 * attaches such a native thread to the JVM for each callback and detaches it afterwards, which
 * creates a `java.lang.Thread` per wake-up; keeping the (few, long-lived) runtime threads
 * attached makes a wake-up a plain call. JNA detaches a thread when it exits.
 */
internal object NativeSetup {
    init {
        Native.setCallbackThreadInitializer(
            uniffiRustFutureContinuationCallbackImpl,
            CallbackThreadInitializer(true, false, "fencelock-runtime"),
        )
    }

    /** Runs the initializer above (idempotent). */
    fun ensure() = Unit
}
