// Smoke scenario of the installed C++ wrapper (scripts/test-dist/c.sh):
//   smoke_cpp <nats_url> <expected_version> <name>
// the C scenario of smoke.c through fencelock.hpp's RAII types.
#include <fencelock.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    std::cerr << "usage: smoke_cpp <nats_url> <expected_version> <name>\n";
    return 2;
  }
  const std::string url = argv[1], expected = argv[2], name = argv[3];
  if (fencelock::version() != expected) {
    std::cerr << "smoke: fencelock::version() is \"" << fencelock::version() << "\", expected \""
              << expected << "\"\n";
    return 1;
  }
  const std::string key = "dist-smoke/" + name + "-" + std::to_string(getpid()) + "-" +
                          std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  const std::string state = "written by the first C++ holder";
  try {
    fencelock::Options o;
    o.url = url;
    o.namespace_name = "fencelock-dist-smoke";
    o.label = name;
    auto client = fencelock::Client::connect(o);
    uint64_t first = 0, second = 0;
    {
      fencelock::Lock lock = client.acquire(key, std::chrono::seconds(10));
      first = lock.token();
      std::cout << name << ": acquired " << key << ", token " << first << "\n";
      lock.put(state);
    }  // released by the destructor, keeping the state
    std::optional<std::string> seen;
    {
      fencelock::Lock lock = client.acquire(key, std::chrono::seconds(10));
      second = lock.token();
      seen = lock.initial_state();
    }
    client.erase(key);
    if (seen != state) {
      std::cerr << "smoke: the second holder saw " << (seen ? "\"" + *seen + "\"" : "no state")
                << "\n";
      return 1;
    }
    if (second <= first) {
      std::cerr << "smoke: token " << second << " after " << first << ": not increasing\n";
      return 1;
    }
    std::cout << name << ": re-acquired, token " << second << " > " << first
              << ", state kept; fencelock " << fencelock::version() << "\n";
  } catch (const fencelock::Error &e) {
    std::cerr << "smoke: " << fl_status_name(e.status()) << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
