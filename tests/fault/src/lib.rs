//! Fault suite (docs/ARCHITECTURE.md, Tests). The worker binary (`fault-worker`) holds or increments a lock in
//! its own process so tests can kill or pause it with real signals; the tests live in `tests/`.
