//! W5: many held locks with renewal on one client, measured for CPU and memory.
//!
//! The main process runs this in a child process of its own (`fencelock-bench --w5-child`),
//! so that the CPU and RSS figures count only the one client holding the locks: nothing left
//! over from W1-W4 (allocator caches, lingering change feeds, the raw client) is in them.
//! The child prints one `W5RESULT k=v ...` line on stdout for the parent to read.

use crate::workloads::ACQUIRE_TIMEOUT;
use crate::Res;
use fencelock::{Client, GuardStatus, LockGuard, LockOptions};
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Acquisitions and releases in flight at once.
const CONCURRENCY: usize = 256;

/// What the child measures.
#[derive(Debug, Clone, Default)]
pub struct ScaleResult {
    pub locks: usize,
    pub lease_ms: u64,
    pub acquire_ms: u64,
    pub window_ms: u64,
    pub cpu_ms: u64,
    pub rss_before_kib: u64,
    pub rss_held_kib: u64,
    pub rss_peak_kib: u64,
    pub renewed: usize,
    pub lost: usize,
    pub release_ms: u64,
    pub released_false: usize,
}

impl ScaleResult {
    /// CPU while holding, in % of one core.
    pub fn cpu_pct(&self) -> f64 {
        100.0 * self.cpu_ms as f64 / self.window_ms.max(1) as f64
    }

    /// RSS growth from before acquiring to the peak while holding, in MiB.
    pub fn rss_growth_mib(&self) -> f64 {
        self.rss_peak_kib.saturating_sub(self.rss_before_kib) as f64 / 1024.0
    }

    fn to_line(&self) -> String {
        format!(
            "W5RESULT locks={} lease_ms={} acquire_ms={} window_ms={} cpu_ms={} \
             rss_before_kib={} rss_held_kib={} rss_peak_kib={} renewed={} lost={} release_ms={} \
             released_false={}",
            self.locks,
            self.lease_ms,
            self.acquire_ms,
            self.window_ms,
            self.cpu_ms,
            self.rss_before_kib,
            self.rss_held_kib,
            self.rss_peak_kib,
            self.renewed,
            self.lost,
            self.release_ms,
            self.released_false
        )
    }

    pub fn parse(out: &str) -> Option<ScaleResult> {
        let line = out.lines().find(|l| l.starts_with("W5RESULT "))?;
        let kv: HashMap<&str, u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|f| {
                let (k, v) = f.split_once('=')?;
                Some((k, v.parse().ok()?))
            })
            .collect();
        let g = |k: &str| kv.get(k).copied();
        Some(ScaleResult {
            locks: g("locks")? as usize,
            lease_ms: g("lease_ms")?,
            acquire_ms: g("acquire_ms")?,
            window_ms: g("window_ms")?,
            cpu_ms: g("cpu_ms")?,
            rss_before_kib: g("rss_before_kib")?,
            rss_held_kib: g("rss_held_kib")?,
            rss_peak_kib: g("rss_peak_kib")?,
            renewed: g("renewed")? as usize,
            lost: g("lost")? as usize,
            release_ms: g("release_ms")?,
            released_false: g("released_false")? as usize,
        })
    }
}

/// User + system CPU time of this process (all threads).
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to a rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// VmRSS of this process in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// The child: acquires `locks` locks with `lease` (renewal on), holds them for `window`, checks
/// none was lost and each renewed, releases them all, and prints the result line.
pub async fn child(
    url: &str,
    namespace: &str,
    locks: usize,
    lease: Duration,
    window: Duration,
) -> Res<()> {
    // The URL's scheme (`nats://` or `redis://`) picks the backend.
    let client = Client::builder(url)
        .namespace(namespace)
        .label("bench W5")
        .lease(lease)
        .connect()
        .await?;
    // One lock first, so the connection and the runtimes are fully up before the baseline.
    let warm = client.acquire("w5-warm-up", Some(ACQUIRE_TIMEOUT)).await?;
    warm.release(None).await?;
    let mut r = ScaleResult {
        locks,
        lease_ms: ms(lease),
        rss_before_kib: rss_kib(),
        ..ScaleResult::default()
    };

    let opts = LockOptions::timeout(ACQUIRE_TIMEOUT);
    let started = Instant::now();
    let guards: Vec<(LockGuard, Instant)> = futures::stream::iter(0..locks)
        .map(|i| {
            let (client, opts) = (client.clone(), opts.clone());
            async move {
                let g = client.acquire_with(format!("w5-{i}"), &opts).await?;
                Ok::<_, fencelock::Error>((g, Instant::now()))
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    r.acquire_ms = ms(started.elapsed());
    if client.held_count() != locks {
        return Err(format!(
            "W5: the client counts {} held locks after acquiring {locks}",
            client.held_count()
        )
        .into());
    }
    r.rss_held_kib = rss_kib();
    r.rss_peak_kib = r.rss_held_kib;

    // The hold window: a renewal at lease/3 after each acquisition falls inside it when the
    // window is longer than lease/3 (the last lock renews lease/3 after the window opens).
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    let end = t0 + window;
    while Instant::now() < end {
        let step = end
            .saturating_duration_since(Instant::now())
            .min(Duration::from_secs(1));
        tokio::time::sleep(step).await;
        r.rss_peak_kib = r.rss_peak_kib.max(rss_kib());
    }
    let cpu = cpu_time().saturating_sub(cpu0);
    let wall = t0.elapsed();
    r.cpu_ms = ms(cpu);
    r.window_ms = ms(wall);

    // A lock that was never renewed has at most `lease - (now - acquired)` left; one renewed
    // at lease/3 after acquisition has about lease/3 more.
    let now = Instant::now();
    for (g, acquired) in &guards {
        if g.status() != GuardStatus::Held {
            r.lost += 1;
            continue;
        }
        let unrenewed = (*acquired + lease).saturating_duration_since(now);
        if g.remaining() > unrenewed + lease / 6 {
            r.renewed += 1;
        }
    }

    let started = Instant::now();
    let outcomes: Vec<bool> = futures::stream::iter(guards)
        .map(|(g, _)| async move { g.release(None).await })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    r.release_ms = ms(started.elapsed());
    r.released_false = outcomes.iter().filter(|ok| !**ok).count();
    client.close().await;
    println!("{}", r.to_line());
    Ok(())
}
