// Johnny Locke code moved to fencelock: only the import and create's first argument change.
// Type-checked in CI with `tsc --noEmit --strict` (npm run typecheck).

import {
  FencelockError,
  type IDistributedLock,
  JetstreamDistributedLock,
  type LockConfiguration,
  type Readable,
  TimeoutError,
  type Writable
} from 'fencelock'

interface Counter {
  count: number
}

const config: LockConfiguration = {
  namespace: 'my-app',
  defaultLockDurationMs: 5000,
  objectExpiryMs: 300_000
}

export async function main (): Promise<void> {
  const lock: IDistributedLock = await JetstreamDistributedLock.create({ servers: ['nats://127.0.0.1:4222'] }, config)

  const result: Readable<Counter> = await lock.withLock<Counter>('counter', 1000, async (state) => {
    return { count: (state?.count ?? 0) + 1 }
  })
  console.log(result.value?.count)

  const handle = await lock.acquireLock<Counter>('counter', 1000, 10_000)
  const token: bigint = handle.fencingToken
  handle.lost.addEventListener('abort', () => console.log('lost the lock with token', token))
  try {
    const updated: Writable<Counter> = handle.update({ count: (handle.value?.count ?? 0) + 1 })
    const written: boolean = await lock.releaseLock('counter', updated)
    console.log(written)
  } catch (error) {
    await lock.releaseLock('counter', handle)
    throw error
  }

  const attempt = await lock.tryAcquireLock<Counter>('counter')
  if (attempt.acquired && attempt.value) await lock.releaseLock('counter', attempt.value)

  try {
    const seen = await lock.wait<Counter>('counter', 100, { signal: AbortSignal.timeout(1000) })
    console.log(seen.value)
  } catch (error) {
    if (error instanceof TimeoutError) console.log('still held:', error.key)
    else if (error instanceof FencelockError) console.log(error.code)
    else throw error
  }

  const leadership = await lock.campaign('reconciler', { candidate: 'host-1', timeoutMs: 5000 })
  const term: bigint = leadership.term
  console.log(term, (await lock.leader('reconciler'))?.label)
  await leadership.resign()

  await lock.delete('counter')
  await lock.close()
}
