package dev.fencelock

import java.util.UUID

/** A fresh namespace per test, so tests never see each other's keys. */
fun freshNamespace(): String = "jvm-" + UUID.randomUUID().toString().take(12)

/** A client of [backend] in [namespace]. */
suspend fun connectTo(backend: String, namespace: String, configure: ConnectOptions.() -> Unit = {}): Client =
    Fencelock.connect(Servers.url(backend), ConnectOptions().namespace(namespace).apply(configure))

fun ByteArray?.text(): String? = this?.toString(Charsets.UTF_8)

fun String.bytes(): ByteArray = toByteArray(Charsets.UTF_8)
