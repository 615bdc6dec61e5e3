//! What a round measures: operations over time, server-side calls per operation and CPU per
//! operation.

use std::time::Duration;

/// Operations over time, summed over rounds.
#[derive(Default, Clone, Copy)]
pub(crate) struct Tally {
    pub(crate) ops: u64,
    pub(crate) secs: f64,
}

impl Tally {
    pub(crate) fn add(&mut self, (ops, d): (u64, Duration)) {
        self.ops += ops;
        self.secs += d.as_secs_f64();
    }

    pub(crate) fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.ops as f64 / self.secs
        } else {
            0.0
        }
    }

    /// Half a raw sequential cycle.
    pub(crate) fn rtt(&self) -> Duration {
        if self.ops == 0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(self.secs / self.ops as f64 / 2.0)
    }
}

/// Round trips fencelock spent, counted on the server (Redis: every fencelock operation is
/// one script, so `EVALSHA` calls around fencelock's rounds count them).
#[derive(Default)]
pub(crate) struct Calls {
    pub(crate) calls: u64,
    pub(crate) ops: u64,
    pub(crate) known: bool,
}

impl Calls {
    pub(crate) fn add(&mut self, before: Option<u64>, after: Option<u64>, ops: u64) {
        if let (Some(b), Some(a)) = (before, after) {
            self.calls += a.saturating_sub(b);
            self.ops += ops;
            self.known = true;
        }
    }

    pub(crate) fn per_op(&self) -> Option<f64> {
        (self.known && self.ops > 0).then(|| self.calls as f64 / self.ops as f64)
    }
}

/// CPU spent per operation: this process (getrusage, all threads) and the store's server when
/// it says (Redis `INFO cpu`). Measured around each round, outside the timed part.
#[derive(Default)]
pub(crate) struct Cpu {
    pub(crate) client_us: f64,
    pub(crate) server_us: f64,
    pub(crate) server_known: bool,
    pub(crate) ops: u64,
}

/// A CPU reading taken before a round.
pub(crate) struct CpuMark {
    pub(crate) client: Duration,
    pub(crate) server: Option<f64>,
}

impl Cpu {
    pub(crate) fn add(&mut self, before: CpuMark, after: CpuMark, ops: u64) {
        self.client_us += us(after.client.saturating_sub(before.client));
        if let (Some(b), Some(a)) = (before.server, after.server) {
            self.server_us += (a - b).max(0.0);
            self.server_known = true;
        }
        self.ops += ops;
    }

    pub(crate) fn describe(&self, server: &str) -> String {
        let per = |v: f64| v / self.ops.max(1) as f64;
        if self.server_known {
            format!(
                "{:.1} us here + {:.1} us {server}",
                per(self.client_us),
                per(self.server_us)
            )
        } else {
            format!("{:.1} us here", per(self.client_us))
        }
    }
}

pub(crate) fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// CPU time (user + system) process `pid` has used so far, in microseconds, from `/proc`.
pub(crate) fn proc_cpu_us(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th.
    let f: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| ticks * 1e6 / hz as f64)
}
