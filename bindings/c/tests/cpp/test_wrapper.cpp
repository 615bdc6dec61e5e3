// The C++ RAII wrapper against a real nats-server ($FENCELOCK_URL): locks released by their
// destructors, errors as typed exceptions, with_lock with lambdas, leader election.
#include <fencelock.hpp>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

static int passed = 0, failed = 0, failures_in_test = 0;

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::cerr << "  " << __FILE__ << ":" << __LINE__ << ": CHECK failed: " #cond "\n"; \
      failures_in_test++;                                                             \
    }                                                                                 \
  } while (0)

template <typename E, typename F>
static bool throws(F &&f, fl_status expected) {
  try {
    f();
  } catch (const E &e) {
    if (e.status() != expected) return false;
    return std::string(e.what()).size() > 0;
  } catch (const std::exception &e) {
    std::cerr << "  unexpected exception: " << e.what() << "\n";
    return false;
  }
  return false;
}

template <typename F>
static void run(const char *name, F &&f) {
  failures_in_test = 0;
  try {
    f();
  } catch (const std::exception &e) {
    std::cerr << "  uncaught: " << e.what() << "\n";
    failures_in_test++;
  }
  if (failures_in_test == 0) {
    passed++;
    std::cout << "ok - " << name << "\n";
  } else {
    failed++;
    std::cout << "FAILED - " << name << "\n";
  }
}

static std::string url;

static fencelock::Client connect(std::chrono::milliseconds lease = 0ms) {
  fencelock::Options o;
  o.url = url;
  o.namespace_name = "cpp-tests";
  o.lease = lease;
  o.label = "cpp-test";
  return fencelock::Client::connect(o);
}

int main() {
  const char *u = std::getenv("FENCELOCK_URL");
  if (!u) {
    std::cerr << "set FENCELOCK_URL (see tests/with-nats.sh)\n";
    return 2;
  }
  url = u;

  run("destructor_releases_the_lock", [] {
    auto c = connect();
    c.erase("cpp/raii");
    uint64_t first = 0;
    {
      fencelock::Lock lock = c.acquire("cpp/raii", 2s);
      first = lock.token();
      CHECK(lock.key() == "cpp/raii");
      CHECK(lock.id().size() == 32);
      CHECK(!lock.initial_state());
      lock.put("written");
      CHECK(lock.state() == std::optional<std::string>("written"));
      CHECK(lock.status() == FL_GUARD_HELD);
      CHECK(!c.try_acquire("cpp/raii"));  // held
    }
    // Released synchronously by the destructor: free right away, state kept.
    auto again = c.try_acquire("cpp/raii");
    CHECK(again.has_value());
    CHECK(again && again->token() > first);
    CHECK(again && again->initial_state() == std::optional<std::string>("written"));
    // Moving a lock transfers the release duty.
    fencelock::Lock moved = std::move(*again);
    CHECK(moved.release("after move"));
    auto info = c.get("cpp/raii");
    CHECK(info.state == std::optional<std::string>("after move"));
    CHECK(!info.holder);
  });

  run("stats_count_acquisitions_misses_and_timeouts", [] {
    auto c = connect();
    for (int i = 0; i < 3; i++) CHECK(c.acquire("cpp/stats", 2s).release());
    auto held = c.acquire("cpp/stats", 2s);
    CHECK(!c.try_acquire("cpp/stats"));
    CHECK(throws<fencelock::TimeoutError>([&] { c.acquire("cpp/stats", 50ms); }, FL_TIMEOUT));
    CHECK(held.release());
    fl_stats s = c.stats();
    CHECK(s.acquisitions == 4 && s.try_misses == 1 && s.timeouts == 1);
    CHECK(s.hold.count == 4 && s.wait.count == 4 && s.locks_lost == 0);
  });

  run("errors_are_typed_exceptions", [] {
    auto c = connect();
    auto held = c.acquire("cpp/errors", 2s);
    CHECK(throws<fencelock::TimeoutError>([&] { c.acquire("cpp/errors", 50ms); }, FL_TIMEOUT));
    CHECK(throws<fencelock::TimeoutError>([&] { c.wait("cpp/errors", 50ms); }, FL_TIMEOUT));
    CHECK(throws<fencelock::Error>([&] { c.acquire("", 0ms); }, FL_INVALID_KEY));
    CHECK(throws<fencelock::Error>([&] { c.acquire(std::string(2000, 'k'), 0ms); },
                                   FL_INVALID_KEY));
    CHECK(throws<fencelock::Error>([&] { c.acquire("cpp/x", -5ms); }, FL_INVALID_ARGUMENT));
    fencelock::LockOptions zero_lease;
    zero_lease.lease = 1ms;
    CHECK(throws<fencelock::Error>([&] { c.acquire("cpp/x", 0ms, zero_lease); },
                                   FL_INVALID_ARGUMENT));
    CHECK(held.release());
    CHECK(throws<fencelock::NotHeldError>([&] { held.release(); }, FL_NOT_HELD));
    try {
      held.refresh();
      CHECK(false);
    } catch (const fencelock::NotHeldError &e) {
      CHECK(e.key() == std::optional<std::string>("cpp/errors"));
      CHECK(e.token().has_value());
      CHECK(std::string(e.code()) == "not_held");
    }
    fencelock::Options bad;
    bad.url = "bogus://x";
    CHECK(throws<fencelock::Error>([&] { fencelock::Client::connect(bad); }, FL_INVALID_ARGUMENT));
  });

  run("expired_lock_throws_expired", [] {
    auto c = connect();
    fencelock::LockOptions o;
    o.lease = 150ms;
    o.renew = FL_RENEW_OFF;
    auto l = c.acquire("cpp/expired", 2s, o);
    std::this_thread::sleep_for(300ms);
    CHECK(throws<fencelock::ExpiredError>([&] { l.put("late"); }, FL_EXPIRED));
    CHECK(!l.release("late"));  // nothing written; the destructor then has nothing to do
  });

  run("state_too_large", [] {
    auto c = connect();
    auto l = c.acquire("cpp/big", 2s);
    size_t max = 0;
    fl_client_max_state_len(c.handle(), &max, nullptr);
    CHECK(throws<fencelock::Error>([&] { l.put(std::string(max + 1, 'x')); },
                                   FL_STATE_TOO_LARGE));
  });

  run("with_lock_lambdas_and_exceptions", [] {
    auto c = connect();
    c.erase("cpp/with");
    auto inc = [](std::optional<std::string_view> s) -> std::optional<std::string> {
      return std::to_string(s ? std::stoi(std::string(*s)) + 1 : 1);
    };
    CHECK(c.with_lock("cpp/with", 2s, inc) == std::optional<std::string>("1"));
    CHECK(c.with_lock("cpp/with", 2s, inc) == std::optional<std::string>("2"));
    bool rethrown = false;
    try {
      c.with_lock("cpp/with", 2s, [](auto) -> std::optional<std::string> {
        throw std::logic_error("boom");
      });
    } catch (const std::logic_error &e) {
      rethrown = std::string(e.what()) == "boom";
    }
    CHECK(rethrown);
    CHECK(c.get("cpp/with").state == std::optional<std::string>("2"));  // unchanged
    CHECK(c.with_lock("cpp/with", 2s, [](auto) { return std::optional<std::string>(); }) ==
          std::optional<std::string>("2"));
  });

  run("threads_contend_exactly", [] {
    auto a = connect(), b = connect();
    a.erase("cpp/count");
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int t = 0; t < 6; t++) {
      threads.emplace_back([&, t] {
        const fencelock::Client &c = t % 2 ? a : b;
        for (int i = 0; i < 20; i++) {
          try {
            fencelock::Lock l = c.acquire("cpp/count", 30s);
            auto s = l.initial_state();
            l.put(std::to_string(s ? std::stoi(*s) + 1 : 1));
          } catch (const std::exception &e) {
            std::cerr << "  " << e.what() << "\n";
            errors++;
          }
        }
      });
    }
    for (auto &t : threads) t.join();
    CHECK(errors == 0);
    CHECK(a.get("cpp/count").state == std::optional<std::string>("120"));
  });

  run("leader_election", [] {
    auto a = connect(300ms), b = connect(300ms);
    a.erase("cpp/election");
    CHECK(!a.leader("cpp/election"));
    uint64_t term = 0;
    {
      fencelock::Leadership lead = a.campaign("cpp/election", "node-a", 2s);
      CHECK(lead.is_leader());
      term = lead.term();
      auto who = b.leader("cpp/election");
      CHECK(who && who->label == "node-a" && who->token == term);
      CHECK(throws<fencelock::TimeoutError>([&] { b.campaign("cpp/election", "node-b", 100ms); },
                                            FL_TIMEOUT));
    }  // resigns
    fencelock::Leadership next = b.campaign("cpp/election", "node-b", 2s);
    CHECK(next.term() > term);
    CHECK(next.resign());
  });

  run("use_after_close", [] {
    auto c = connect();
    auto l = c.acquire("cpp/closed", 2s);
    c.close();
    CHECK(throws<fencelock::ClosedError>([&] { c.acquire("cpp/closed", 0ms); }, FL_CLOSED));
    CHECK(throws<fencelock::ClosedError>([&] { l.put("x"); }, FL_CLOSED));
    CHECK(l.status() == FL_GUARD_RELEASED);
  });

  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
