//! Fault suite (docs/ARCHITECTURE.md, Tests; tests/fault/README.md). The worker binary
//! (`fault-worker`) holds or increments a lock in its own process so tests can kill or pause it
//! with real signals; [`history`] records what several clients did and checks it; the
//! scenarios live in `tests/`, one file per family.

pub mod history;
pub mod workload;
