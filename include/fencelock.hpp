/**
 * @file fencelock.hpp
 * @brief Header-only C++17 RAII wrapper of the fencelock C API (fencelock.h).
 *
 * - fencelock::Client owns a connection (shared by the locks made from it).
 * - fencelock::Lock releases its lock in its destructor (synchronously, keeping the state).
 * - Failures throw fencelock::Error (or a subclass per common status) carrying the status,
 *   the message, the key and the fencing token.
 * - State is bytes, held in std::string; "no state" is std::nullopt.
 *
 * Thread-safety: Client may be used from many threads at once; a Lock or Leadership may be
 * shared between threads but not destroyed while in use.
 */
#ifndef FENCELOCK_HPP
#define FENCELOCK_HPP

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "fencelock.h"

namespace fencelock {

/** A failed fencelock call. */
class Error : public std::runtime_error {
 public:
  Error(fl_status status, std::string message, std::optional<std::string> key,
        std::optional<uint64_t> token)
      : std::runtime_error(std::move(message)), status_(status), key_(std::move(key)), token_(token) {}
  /** The FL_* status. */
  fl_status status() const noexcept { return status_; }
  /** Its stable name, e.g. "timeout". */
  const char *code() const noexcept { return fl_status_name(status_); }
  /** The key involved, if any. */
  const std::optional<std::string> &key() const noexcept { return key_; }
  /** The fencing token of the lock involved, if any. */
  std::optional<uint64_t> token() const noexcept { return token_; }

 private:
  fl_status status_;
  std::optional<std::string> key_;
  std::optional<uint64_t> token_;
};

/** FL_TIMEOUT: the lock was not available in time. */
struct TimeoutError : Error { using Error::Error; };
/** FL_HELD: someone else holds the lock. */
struct HeldError : Error { using Error::Error; };
/** FL_NOT_HELD: already released. */
struct NotHeldError : Error { using Error::Error; };
/** FL_EXPIRED: the lease lapsed or another holder took over. */
struct ExpiredError : Error { using Error::Error; };
/** FL_CLOSED: the client was closed. */
struct ClosedError : Error { using Error::Error; };

namespace detail {

/** Owns an fl_error until it is turned into an exception. */
struct ErrorSlot {
  fl_error *err = nullptr;
  ~ErrorSlot() { fl_error_free(&err); }
  fl_error **operator&() noexcept { return &err; }
};

[[noreturn]] inline void raise(fl_status status, const fl_error *err) {
  std::string message = err ? fl_error_message(err) : fl_status_name(status);
  std::optional<std::string> key;
  if (err && fl_error_key(err)) key = fl_error_key(err);
  std::optional<uint64_t> token;
  if (err && fl_error_token(err)) token = fl_error_token(err);
  switch (status) {
    case FL_TIMEOUT: throw TimeoutError(status, message, key, token);
    case FL_HELD: throw HeldError(status, message, key, token);
    case FL_NOT_HELD: throw NotHeldError(status, message, key, token);
    case FL_EXPIRED: throw ExpiredError(status, message, key, token);
    case FL_CLOSED: throw ClosedError(status, message, key, token);
    default: throw Error(status, message, key, token);
  }
}

/** Calls `f(&err)` and throws on a non-OK status. */
template <typename F>
void check(F &&f) {
  ErrorSlot slot;
  fl_status status = f(&slot);
  if (status != FL_OK) raise(status, slot.err);
}

inline std::optional<std::string> take_bytes(fl_bytes *b) {
  if (!b) return std::nullopt;
  std::string s(reinterpret_cast<const char *>(fl_bytes_data(b)), fl_bytes_len(b));
  fl_bytes_free(&b);
  return s;
}

inline int64_t millis(std::chrono::milliseconds d) { return static_cast<int64_t>(d.count()); }

inline const char *c_str_or_null(const std::optional<std::string> &s) {
  return s ? s->c_str() : nullptr;
}

inline const uint8_t *data_of(const std::optional<std::string_view> &s) {
  return s ? reinterpret_cast<const uint8_t *>(s->data() ? s->data() : "") : nullptr;
}

}  // namespace detail

/** Wait without a time limit. */
inline constexpr std::chrono::milliseconds wait_forever{FL_WAIT_FOREVER};

/** The library version. */
inline std::string version() { return fl_version(); }

/** Client options; unset fields take the library defaults (see fl_client_options). */
struct Options {
  std::string url = "nats://127.0.0.1:4222";
  std::optional<std::string> namespace_name, token, user, password, creds_file, tls_root_cert,
      tls_client_cert, tls_client_key, label;
  bool require_tls = false, clock_free = false;
  std::chrono::milliseconds connect_timeout{0}, lease{0}, object_expiry{0}, max_hold{0},
      replication_timeout{0};
  /** Copies of every write counting the primary (NATS stream replicas; Redis WAIT n - 1). */
  int replication = 0;
  fl_storage storage = FL_STORAGE_DEFAULT;
  fl_renew renew = FL_RENEW_DEFAULT;
  double renew_fraction = 0;
};

/** Per-call options of acquire / try_acquire / with_lock. */
struct LockOptions {
  std::chrono::milliseconds lease{0};
  fl_renew renew = FL_RENEW_DEFAULT;
  std::optional<std::string> label;
};

/** Who holds a lock (or leads an election). */
struct Holder {
  uint64_t token;
  std::string lock_id;
  std::chrono::milliseconds lease;
  std::string label;
};

/** What Client::get reports. */
struct KeyInfo {
  std::optional<std::string> state;
  std::optional<Holder> holder;
  uint64_t revision;
};

namespace detail {
inline std::optional<Holder> take_holder(fl_holder *h) {
  if (!h) return std::nullopt;
  Holder out{fl_holder_token(h), fl_holder_lock_id(h),
             std::chrono::milliseconds(fl_holder_lease_ms(h)), fl_holder_label(h)};
  fl_holder_free(&h);
  return out;
}

struct ClientDeleter {
  void operator()(fl_client *c) const noexcept { fl_client_free(&c); }
};
using ClientPtr = std::shared_ptr<fl_client>;

inline fl_lock_options c_options(const LockOptions &o) {
  fl_lock_options c{};
  c.lease_ms = millis(o.lease);
  c.renew = o.renew;
  c.label = c_str_or_null(o.label);
  return c;
}
}  // namespace detail

/** A held lock; the destructor releases it (keeping the state) if still held. Move-only. */
class Lock {
 public:
  Lock(Lock &&o) noexcept : client_(std::move(o.client_)), lock_(std::exchange(o.lock_, nullptr)) {}
  Lock &operator=(Lock &&o) noexcept {
    if (this != &o) {
      reset();
      client_ = std::move(o.client_);
      lock_ = std::exchange(o.lock_, nullptr);
    }
    return *this;
  }
  Lock(const Lock &) = delete;
  Lock &operator=(const Lock &) = delete;
  ~Lock() { reset(); }

  /** The fencing token. */
  uint64_t token() const {
    uint64_t t = 0;
    detail::check([&](fl_error **e) { return fl_lock_token(lock_, &t, e); });
    return t;
  }
  /** The key. */
  std::string key() const {
    const char *k = nullptr;
    detail::check([&](fl_error **e) { return fl_lock_key(lock_, &k, e); });
    return k;
  }
  /** The unique lock id (32 hex characters). */
  std::string id() const {
    const char *k = nullptr;
    detail::check([&](fl_error **e) { return fl_lock_id(lock_, &k, e); });
    return k;
  }
  /** The state as last written through this lock (or read at acquisition). */
  std::optional<std::string> state() const {
    fl_bytes *b = nullptr;
    detail::check([&](fl_error **e) { return fl_lock_state(lock_, &b, e); });
    return detail::take_bytes(b);
  }
  /** The state read at acquisition. */
  std::optional<std::string> initial_state() const {
    fl_bytes *b = nullptr;
    detail::check([&](fl_error **e) { return fl_lock_initial_state(lock_, &b, e); });
    return detail::take_bytes(b);
  }
  /** Held, lost or released. */
  fl_guard_status status() const {
    fl_guard_status s = FL_GUARD_RELEASED;
    detail::check([&](fl_error **e) { return fl_lock_status(lock_, &s, e); });
    return s;
  }
  /** Writes state while keeping the lock (throws ExpiredError once lost). */
  void put(std::string_view state) {
    detail::check([&](fl_error **e) {
      return fl_lock_put(lock_, detail::data_of(state), state.size(), e);
    });
  }
  /** Renews the lease now. */
  void refresh() {
    detail::check([&](fl_error **e) { return fl_lock_refresh(lock_, e); });
  }
  /** Releases, writing `state` if given; false when the lock had been lost (nothing written). */
  bool release(std::optional<std::string_view> state = std::nullopt) {
    bool released = false;
    detail::check([&](fl_error **e) {
      return fl_release(client_.get(), lock_, detail::data_of(state), state ? state->size() : 0,
                        &released, e);
    });
    return released;
  }
  /** The C handle, for calls the wrapper does not cover. */
  const fl_lock *handle() const noexcept { return lock_; }

 private:
  friend class Client;
  Lock(detail::ClientPtr client, fl_lock *lock) : client_(std::move(client)), lock_(lock) {}

  void reset() noexcept {
    if (!lock_) return;
    fl_guard_status s = FL_GUARD_RELEASED;
    if (fl_lock_status(lock_, &s, nullptr) == FL_OK && s == FL_GUARD_HELD) {
      // Released here rather than in the background, so the key is free once we return.
      fl_release(client_.get(), lock_, nullptr, 0, nullptr, nullptr);
    }
    fl_lock_free(&lock_);
  }

  detail::ClientPtr client_;
  fl_lock *lock_ = nullptr;
};

/** Leadership of an election; the destructor resigns if still leading. Move-only. */
class Leadership {
 public:
  Leadership(Leadership &&o) noexcept : l_(std::exchange(o.l_, nullptr)), client_(std::move(o.client_)) {}
  Leadership(const Leadership &) = delete;
  Leadership &operator=(const Leadership &) = delete;
  Leadership &operator=(Leadership &&) = delete;
  ~Leadership() {
    if (!l_) return;
    bool leading = false;
    if (fl_leadership_is_leader(l_, &leading, nullptr) == FL_OK && leading) {
      fl_leadership_resign(l_, nullptr, nullptr);
    }
    fl_leadership_free(&l_);
  }
  bool is_leader() const {
    bool b = false;
    detail::check([&](fl_error **e) { return fl_leadership_is_leader(l_, &b, e); });
    return b;
  }
  uint64_t term() const {
    uint64_t t = 0;
    detail::check([&](fl_error **e) { return fl_leadership_term(l_, &t, e); });
    return t;
  }
  /** Steps down; false when leadership had already been lost. */
  bool resign() {
    bool done = false;
    detail::check([&](fl_error **e) { return fl_leadership_resign(l_, &done, e); });
    return done;
  }

 private:
  friend class Client;
  Leadership(detail::ClientPtr c, fl_leadership *l) : l_(l), client_(std::move(c)) {}
  fl_leadership *l_ = nullptr;
  detail::ClientPtr client_;  // keeps the connection alive while leading
};

/** A fencelock client. Copies share one connection; the last copy closes it. */
class Client {
 public:
  /** Connects (throws Error on failure). */
  static Client connect(const Options &o) {
    fl_client_options c{};
    c.url = o.url.c_str();
    c.namespace_name = detail::c_str_or_null(o.namespace_name);
    c.token = detail::c_str_or_null(o.token);
    c.user = detail::c_str_or_null(o.user);
    c.password = detail::c_str_or_null(o.password);
    c.creds_file = detail::c_str_or_null(o.creds_file);
    c.tls_root_cert = detail::c_str_or_null(o.tls_root_cert);
    c.tls_client_cert = detail::c_str_or_null(o.tls_client_cert);
    c.tls_client_key = detail::c_str_or_null(o.tls_client_key);
    c.require_tls = o.require_tls;
    c.connect_timeout_ms = detail::millis(o.connect_timeout);
    c.lease_ms = detail::millis(o.lease);
    c.object_expiry_ms = detail::millis(o.object_expiry);
    c.max_hold_ms = detail::millis(o.max_hold);
    c.replication = o.replication;
    c.replication_timeout_ms = detail::millis(o.replication_timeout);
    c.clock_free = o.clock_free;
    c.storage = o.storage;
    c.renew = o.renew;
    c.renew_fraction = o.renew_fraction;
    c.label = detail::c_str_or_null(o.label);
    fl_client *raw = nullptr;
    detail::check([&](fl_error **e) { return fl_client_connect(&c, &raw, e); });
    return Client(detail::ClientPtr(raw, detail::ClientDeleter{}));
  }

  /** This client's lock statistics (counts, wait/hold timings in microseconds). */
  fl_stats stats() const {
    fl_stats s{};
    s.size = sizeof s;
    detail::check([&](fl_error **e) { return fl_client_stats(c_.get(), &s, e); });
    return s;
  }

  /** Acquires `key`, waiting up to `timeout` (throws TimeoutError). */
  Lock acquire(const std::string &key, std::chrono::milliseconds timeout,
               const LockOptions &opts = {}) const {
    fl_lock_options o = detail::c_options(opts);
    fl_lock *l = nullptr;
    detail::check([&](fl_error **e) {
      return fl_acquire(c_.get(), key.c_str(), detail::millis(timeout), &o, nullptr, &l, e);
    });
    return Lock(c_, l);
  }

  /** Acquires `key` if free now; std::nullopt when someone holds it. */
  std::optional<Lock> try_acquire(const std::string &key, const LockOptions &opts = {}) const {
    fl_lock_options o = detail::c_options(opts);
    fl_lock *l = nullptr;
    detail::ErrorSlot slot;
    fl_status s = fl_try_acquire(c_.get(), key.c_str(), &o, &l, &slot);
    if (s == FL_HELD) return std::nullopt;
    if (s != FL_OK) detail::raise(s, slot.err);
    return Lock(c_, l);
  }

  /**
   * Runs `f(state)` under the lock and stores what it returns (std::nullopt keeps the state).
   * `f` takes `std::optional<std::string_view>` and returns `std::optional<std::string>`;
   * an exception thrown by `f` releases the lock unchanged and is rethrown here.
   */
  template <typename F>
  std::optional<std::string> with_lock(const std::string &key, std::chrono::milliseconds timeout,
                                       F &&f, const LockOptions &opts = {}) const {
    struct Ctx {
      std::remove_reference_t<F> *f;
      std::exception_ptr thrown;
    } ctx{&f, nullptr};
    auto trampoline = [](void *user, const fl_bytes *state, fl_state_out *out) -> int32_t {
      Ctx *c = static_cast<Ctx *>(user);
      try {
        std::optional<std::string_view> in;
        if (state) {
          in = std::string_view(reinterpret_cast<const char *>(fl_bytes_data(state)),
                                fl_bytes_len(state));
        }
        std::optional<std::string> next = (*c->f)(in);
        if (next && fl_state_out_set(out, detail::data_of(std::string_view(*next)), next->size(),
                                     nullptr) != FL_OK) {
          return 2;
        }
        return 0;
      } catch (...) {
        // Exceptions must not cross the C boundary: rethrown after fl_with_lock returns.
        c->thrown = std::current_exception();
        return 1;
      }
    };
    fl_lock_options o = detail::c_options(opts);
    fl_bytes *stored = nullptr;
    detail::ErrorSlot slot;
    fl_status s = fl_with_lock(c_.get(), key.c_str(), detail::millis(timeout), &o, nullptr,
                               trampoline, &ctx, &stored, &slot);
    if (ctx.thrown) std::rethrow_exception(ctx.thrown);
    if (s != FL_OK) detail::raise(s, slot.err);
    return detail::take_bytes(stored);
  }

  /** Waits until `key` is free and returns its state. */
  std::optional<std::string> wait(const std::string &key, std::chrono::milliseconds timeout) const {
    fl_bytes *b = nullptr;
    detail::check([&](fl_error **e) {
      return fl_wait(c_.get(), key.c_str(), detail::millis(timeout), nullptr, &b, e);
    });
    return detail::take_bytes(b);
  }

  /** Reads the state and holder of `key` without locking. */
  KeyInfo get(const std::string &key) const {
    fl_bytes *b = nullptr;
    fl_holder *h = nullptr;
    uint64_t rev = 0;
    detail::check([&](fl_error **e) { return fl_get(c_.get(), key.c_str(), &b, &h, &rev, e); });
    return KeyInfo{detail::take_bytes(b), detail::take_holder(h), rev};
  }

  /** Deletes the lock and state of `key` (a holder loses it). */
  void erase(const std::string &key) const {
    detail::check([&](fl_error **e) { return fl_delete(c_.get(), key.c_str(), e); });
  }

  /** Campaigns for leadership of `election`. */
  Leadership campaign(const std::string &election, const std::string &candidate,
                      std::chrono::milliseconds timeout) const {
    fl_leadership *l = nullptr;
    detail::check([&](fl_error **e) {
      return fl_campaign(c_.get(), election.c_str(), candidate.c_str(), detail::millis(timeout),
                         nullptr, &l, e);
    });
    return Leadership(c_, l);
  }

  /** The current leader of `election`, if any. */
  std::optional<Holder> leader(const std::string &election) const {
    fl_holder *h = nullptr;
    detail::check([&](fl_error **e) { return fl_leader(c_.get(), election.c_str(), &h, e); });
    return detail::take_holder(h);
  }

  /** Closes the client (its locks are released; later calls throw ClosedError). */
  void close() const {
    detail::check([&](fl_error **e) { return fl_client_close(c_.get(), e); });
  }

  /** The C handle, for calls the wrapper does not cover. */
  const fl_client *handle() const noexcept { return c_.get(); }

 private:
  explicit Client(detail::ClientPtr c) : c_(std::move(c)) {}
  detail::ClientPtr c_;
};

}  // namespace fencelock

#endif  // FENCELOCK_HPP
