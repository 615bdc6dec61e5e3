// ES module entry: the same objects as the CommonJS entry (index.js), so classes and
// instanceof checks agree whichever way the package is loaded.
import cjs from './index.js'

export const {
  JetstreamDistributedLock,
  RedisDistributedLock,
  MemoryDistributedLock,
  FencelockError,
  TimeoutError,
  ErrorCodes,
  ReadableObject,
  WritableObject,
  Leadership,
  setLogger,
  setLogLevel,
  LOG_CHANNEL,
  version
} = cjs
export default cjs
