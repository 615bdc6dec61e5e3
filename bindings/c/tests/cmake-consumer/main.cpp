// Links through find_package(fencelock) and takes a lock on the in-process backend.
#include <fencelock.hpp>
#include <iostream>

int main() {
  fencelock::Options o;
  o.url = "memory://";
  auto client = fencelock::Client::connect(o);
  {
    fencelock::Lock lock = client.acquire("cmake/consumer", std::chrono::seconds(1));
    std::cout << "cmake consumer: fencelock " << fencelock::version() << ", token "
              << lock.token() << "\n";
  }
  return 0;
}
