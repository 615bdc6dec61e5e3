package dev.fencelock

import dev.fencelock.ffi.FencelockException as NativeError

/**
 * Every fencelock failure. One subclass per stable kind of the core; [message] names the key
 * and what to do, [key] and [token] are set where the operation had them.
 */
sealed class FencelockException(
    message: String,
    /** The key the failed operation was about, if any. */
    val key: String?,
    /** The fencing token of the guard involved, if any. */
    val token: Long?,
    cause: Throwable? = null,
) : RuntimeException(message, cause) {
    /** The stable kind, as in every binding: `timeout`, `held`, `not_held`, ... */
    abstract val kind: String

    /** The lock or the wait was not available in time, or a withLock block outlived its lease. */
    class Timeout(message: String, key: String?, token: Long?) : FencelockException(message, key, token) {
        override val kind get() = "timeout"
    }

    /** Someone else holds the lock. */
    class Held(message: String, key: String?, token: Long?) : FencelockException(message, key, token) {
        override val kind get() = "held"
    }

    /** The lock was never held or was already released. */
    class NotHeld(message: String, key: String?, token: Long?) : FencelockException(message, key, token) {
        override val kind get() = "not_held"
    }

    /** The lease lapsed or another holder took over: writes are refused. */
    class Expired(message: String, key: String?, token: Long?) : FencelockException(message, key, token) {
        override val kind get() = "expired"
    }

    /** The key is empty or too long. */
    class InvalidKey(message: String, key: String?, token: Long?) : FencelockException(message, key, token) {
        override val kind get() = "invalid_key"
    }

    /** A duration, size or option is out of range. */
    class InvalidArgument(message: String, key: String?, token: Long?) : FencelockException(message, key, token) {
        override val kind get() = "invalid_argument"
    }

    /** The state is larger than the server accepts. */
    class StateTooLarge(message: String, key: String?, token: Long?) : FencelockException(message, key, token) {
        override val kind get() = "state_too_large"
    }

    /** The client was closed. */
    class Closed(message: String, key: String?, token: Long?) : FencelockException(message, key, token) {
        override val kind get() = "closed"
    }

    /** The server failed or could not be reached. */
    class Backend(message: String, key: String?, token: Long?) : FencelockException(message, key, token) {
        override val kind get() = "backend"
    }

    /** A withLock / doIfFree block threw; [cause] is what it threw. The lock was released unchanged. */
    class Callback(message: String, key: String?, token: Long?, cause: Throwable?) :
        FencelockException(message, key, token, cause) {
        override val kind get() = "callback"
    }
}

/** The public exception for a native one; [thrown] is what a user block threw, if any. */
internal fun NativeError.toPublic(thrown: Throwable? = null): FencelockException = when (this) {
    is NativeError.Timeout -> FencelockException.Timeout(detail, key, token?.toLong())
    is NativeError.Held -> FencelockException.Held(detail, key, token?.toLong())
    is NativeError.NotHeld -> FencelockException.NotHeld(detail, key, token?.toLong())
    is NativeError.Expired -> FencelockException.Expired(detail, key, token?.toLong())
    is NativeError.InvalidKey -> FencelockException.InvalidKey(detail, key, token?.toLong())
    is NativeError.InvalidArgument -> FencelockException.InvalidArgument(detail, key, token?.toLong())
    is NativeError.StateTooLarge -> FencelockException.StateTooLarge(detail, key, token?.toLong())
    is NativeError.Closed -> FencelockException.Closed(detail, key, token?.toLong())
    is NativeError.Backend -> FencelockException.Backend(detail, key, token?.toLong())
    is NativeError.Callback -> FencelockException.Callback(detail, key, token?.toLong(), thrown)
}

/** Runs [block], turning native errors into [FencelockException]s. */
internal inline fun <T> translated(block: () -> T): T = try {
    block()
} catch (e: NativeError) {
    throw e.toPublic()
}
