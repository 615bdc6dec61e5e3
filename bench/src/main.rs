//! fencelock-bench: the W1-W5 figures of DESIGN.md section 6, each next to the raw async-nats
//! KV baseline measured in the same run, printed as one table.
//!
//! ```text
//! cargo run --release -p fencelock-bench -- [--quick] [--only W1,W3] [--url nats://...] [--check]
//! ```
//!
//! Without `--url` it starts its own nats-server (the project's `.venv/bin/nats-server`, see
//! `make setup`). Ratios compare against raw rounds interleaved with the workload's rounds
//! (alternating which goes first), so that load from elsewhere on the machine hits both alike.

mod raw;
mod scale;
mod workloads;

use fencelock::Client;
use fencelock_testkit::NatsServer;
use raw::{Raw, RawHandoff, RawKey};
use scale::ScaleResult;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Res<T> = Result<T, BoxError>;

const KEYS: usize = 64;
const W2_CLIENTS: usize = 2;
const W2_TASKS: usize = 8;

const USAGE: &str =
    "usage: fencelock-bench [--quick] [--only W1,W2,W3,W4,W5] [--url nats://host:port] [--check]
  --quick   short runs, for smoke testing (W5 then uses 2 000 locks with a 3 s lease)
  --only    run only these workloads
  --url     use this NATS server (JetStream on) instead of starting one
  --check   exit with status 1 when a figure misses its target";

struct Args {
    quick: bool,
    only: Vec<String>,
    url: Option<String>,
    check: bool,
}

impl Args {
    fn runs(&self, w: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == w)
    }
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        quick: false,
        only: Vec::new(),
        url: None,
        check: false,
    };
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = |n: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{n} needs a value\n{USAGE}"))
        };
        match name.as_str() {
            "--quick" => a.quick = true,
            "--check" => a.check = true,
            "--url" => a.url = Some(value("--url")?),
            "--only" => {
                for w in value("--only")?.split(',').map(str::trim) {
                    let w = w.to_ascii_uppercase();
                    if !["W1", "W2", "W3", "W4", "W5"].contains(&w.as_str()) {
                        return Err(format!("unknown workload {w:?} in --only\n{USAGE}"));
                    }
                    a.only.push(w);
                }
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(a)
}

/// How long each part runs.
struct Plan {
    /// Interleaved rounds of raw and fencelock for W1, W2 and W4.
    rounds: usize,
    round: Duration,
    warm: Duration,
    w3_rounds: usize,
    w3_reps: usize,
    w3_raw: Duration,
    /// Pause that lets the W3 waiter settle into its wait before the holder releases.
    w3_settle: Duration,
    w5_locks: usize,
    w5_lease: Duration,
    w5_window: Duration,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                rounds: 2,
                round: Duration::from_millis(250),
                warm: Duration::from_millis(100),
                w3_rounds: 2,
                w3_reps: 20,
                w3_raw: Duration::from_millis(200),
                w3_settle: Duration::from_millis(5),
                w5_locks: 2_000,
                w5_lease: Duration::from_secs(3),
                w5_window: Duration::from_millis(1_500),
            }
        } else {
            Plan {
                rounds: 5,
                round: Duration::from_secs(1),
                warm: Duration::from_millis(300),
                w3_rounds: 5,
                w3_reps: 60,
                w3_raw: Duration::from_millis(500),
                w3_settle: Duration::from_millis(5),
                w5_locks: 10_000,
                // DESIGN.md: lease 30 s (renewal at lease/3 = 10 s); the window covers one
                // renewal of every lock.
                w5_lease: Duration::from_secs(30),
                w5_window: Duration::from_secs(12),
            }
        }
    }
}

/// Operations over time, summed over rounds.
#[derive(Default, Clone, Copy)]
struct Tally {
    ops: u64,
    secs: f64,
}

impl Tally {
    fn add(&mut self, (ops, d): (u64, Duration)) {
        self.ops += ops;
        self.secs += d.as_secs_f64();
    }

    fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.ops as f64 / self.secs
        } else {
            0.0
        }
    }

    /// Half a raw sequential cycle.
    fn rtt(&self) -> Duration {
        if self.ops == 0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(self.secs / self.ops as f64 / 2.0)
    }
}

struct Row {
    workload: String,
    fencelock: String,
    raw: String,
    ratio: String,
    target: String,
    pass: bool,
}

/// Shared state of one run.
struct Bench {
    url: String,
    namespace: String,
    plan: Plan,
    raw: Arc<Raw>,
    seq_keys: Vec<RawKey>,
    par_keys: Vec<RawKey>,
    /// Every raw sequential round of the run, for the RTT in the header.
    raw_seq_all: Tally,
    rows: Vec<Row>,
    notes: Vec<String>,
}

fn key_names(prefix: &str) -> Vec<String> {
    (0..KEYS).map(|i| format!("{prefix}{i}")).collect()
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn pass_str(p: bool) -> &'static str {
    if p {
        "pass"
    } else {
        "FAIL"
    }
}

impl Bench {
    async fn raw_seq(&mut self, d: Duration) -> Res<(u64, Duration)> {
        let r = self.raw.sequential(&mut self.seq_keys, d).await?;
        self.raw_seq_all.add(r);
        Ok(r)
    }

    async fn raw_par(&mut self, d: Duration) -> Res<(u64, Duration)> {
        let keys = std::mem::take(&mut self.par_keys);
        let (n, e, keys) = self.raw.parallel(keys, d).await?;
        self.par_keys = keys;
        Ok((n, e))
    }

    async fn client(&self, label: &str) -> Res<Client> {
        workloads::connect(&self.url, &self.namespace, label).await
    }

    fn ratio_row(&mut self, workload: &str, unit: &str, fl: Tally, raw: Tally, target: f64) {
        let ratio = fl.rate() / raw.rate();
        self.rows.push(Row {
            workload: workload.to_owned(),
            fencelock: format!("{:.0} {unit}/s", fl.rate()),
            raw: format!("{:.0} cycles/s", raw.rate()),
            ratio: format!("{ratio:.3}x"),
            target: format!(">= {target}x"),
            pass: ratio >= target,
        });
    }

    async fn w1(&mut self) -> Res<()> {
        let client = self.client("bench W1").await?;
        let keys = key_names("w1-");
        let (mut raw, mut fl) = (Tally::default(), Tally::default());
        self.raw
            .sequential(&mut self.seq_keys, self.plan.warm)
            .await?;
        workloads::uncontended(&client, &keys, self.plan.warm).await?;
        for r in 0..self.plan.rounds {
            for raw_turn in [r % 2 == 0, r % 2 == 1] {
                if raw_turn {
                    raw.add(self.raw_seq(self.plan.round).await?);
                } else {
                    fl.add(workloads::uncontended(&client, &keys, self.plan.round).await?);
                }
            }
        }
        client.close().await;
        self.ratio_row("W1 uncontended cycle", "cycles", fl, raw, 0.8);
        self.notes.push(format!(
            "W1: {:.1} us per acquire+release vs {:.1} us per raw cycle",
            1e6 / fl.rate(),
            1e6 / raw.rate()
        ));
        Ok(())
    }

    async fn w2(&mut self) -> Res<()> {
        let key = "w2-counter";
        let mut clients = Vec::new();
        for i in 0..W2_CLIENTS {
            clients.push(self.client(&format!("bench W2 client {i}")).await?);
        }
        clients[0].delete(key).await?;
        let (mut raw, mut fl) = (Tally::default(), Tally::default());
        self.raw
            .sequential(&mut self.seq_keys, self.plan.warm)
            .await?;
        fl.add(workloads::contended(&clients, W2_TASKS, key, self.plan.warm).await?);
        let mut done = fl.ops;
        fl = Tally::default();
        for r in 0..self.plan.rounds {
            for raw_turn in [r % 2 == 0, r % 2 == 1] {
                if raw_turn {
                    raw.add(self.raw_seq(self.plan.round).await?);
                } else {
                    let t = workloads::contended(&clients, W2_TASKS, key, self.plan.round).await?;
                    done += t.0;
                    fl.add(t);
                }
            }
        }
        let value = workloads::read_counter(&clients[1], key).await?;
        for c in &clients {
            c.close().await;
        }
        if value != done {
            return Err(format!(
                "W2: the counter reads {value} after {done} successful increments: lost or \
                 duplicated updates, mutual exclusion is broken"
            )
            .into());
        }
        self.ratio_row(
            "W2 contended counter (2x8 tasks)",
            "increments",
            fl,
            raw,
            0.5,
        );
        self.notes.push(format!(
            "W2: final counter {value} = {done} increments (exact)"
        ));
        Ok(())
    }

    async fn w3(&mut self) -> Res<()> {
        let settle = self.plan.w3_settle;
        let a = self.client("bench W3 A").await?;
        let b = self.client("bench W3 B").await?;
        let mut handoff = workloads::Handoff::new([a.clone(), b.clone()], "w3", settle);
        let other = Raw::bind(
            async_nats::connect(self.url.as_str()).await?,
            self.raw.bucket(),
        )
        .await?;
        let mut raw_handoff = RawHandoff::new([self.raw.clone(), other], "w3", settle).await?;
        // Warm-up: fencelock's clients open their change feeds of the key.
        handoff.run(6).await?;
        raw_handoff.run(6).await?;
        let mut raw = Tally::default();
        let (mut lat, mut raw_lat, mut cold) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..self.plan.w3_rounds {
            for raw_turn in [r % 2 == 0, r % 2 == 1] {
                if raw_turn {
                    raw.add(self.raw_seq(self.plan.w3_raw).await?);
                    let (l, c) = raw_handoff.run(self.plan.w3_reps).await?;
                    raw_lat.extend(l);
                    cold.extend(c);
                } else {
                    lat.extend(handoff.run(self.plan.w3_reps).await?);
                }
            }
        }
        handoff.finish().await?;
        raw_handoff.finish().await?;
        a.close().await;
        b.close().await;
        lat.sort();
        raw_lat.sort();
        cold.sort();
        let pct = |v: &[Duration], p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        let (p50, p99) = (pct(&lat, 0.5), pct(&lat, 0.99));
        let (raw50, raw99) = (pct(&raw_lat, 0.5), pct(&raw_lat, 0.99));
        let rtt = raw.rtt();
        let in_rtt = |d: Duration| d.as_secs_f64() / rtt.as_secs_f64();
        self.rows.push(Row {
            workload: "W3 handoff".into(),
            fencelock: format!("p50 {:.0} us, p99 {:.0} us", us(p50), us(p99)),
            raw: format!(
                "p50 {:.0} us, p99 {:.0} us; RTT {:.0} us",
                us(raw50),
                us(raw99),
                us(rtt)
            ),
            ratio: format!("p50 = {:.2} RTT (raw {:.2})", in_rtt(p50), in_rtt(raw50)),
            target: "p50 <= 3 RTT".into(),
            pass: in_rtt(p50) <= 3.0,
        });
        let cold50 = pct(&cold, 0.5);
        let in_cold = |d: Duration| d.as_secs_f64() / cold50.as_secs_f64();
        self.notes.push(format!(
            "W3: {} handoffs each, fencelock and raw (the waiter settles {} ms into its wait before the release); \
             RTT from raw sequential rounds interleaved with them. fencelock's p50 is {:.2}x the \
             raw handoff's. A raw write sent after the same pause takes p50 {:.0} us (a cold RTT): \
             fencelock p50 = {:.2} cold RTT, raw handoff {:.2}",
            lat.len(),
            settle.as_millis(),
            p50.as_secs_f64() / raw50.as_secs_f64(),
            us(cold50),
            in_cold(p50),
            in_cold(raw50)
        ));
        Ok(())
    }

    async fn w4(&mut self) -> Res<()> {
        let client = self.client("bench W4").await?;
        let keys = key_names("w4-");
        let (mut raw, mut fl) = (Tally::default(), Tally::default());
        self.raw_par(self.plan.warm).await?;
        workloads::parallel(&client, &keys, self.plan.warm).await?;
        for r in 0..self.plan.rounds {
            for raw_turn in [r % 2 == 0, r % 2 == 1] {
                if raw_turn {
                    raw.add(self.raw_par(self.plan.round).await?);
                } else {
                    fl.add(workloads::parallel(&client, &keys, self.plan.round).await?);
                }
            }
        }
        client.close().await;
        self.ratio_row("W4 parallel keys (64 tasks)", "cycles", fl, raw, 0.8);
        Ok(())
    }

    async fn w5(&mut self) -> Res<()> {
        let exe = std::env::current_exe()?;
        let out = tokio::process::Command::new(exe)
            .arg("--w5-child")
            .arg(&self.url)
            .arg(&self.namespace)
            .arg(self.plan.w5_locks.to_string())
            .arg(self.plan.w5_lease.as_millis().to_string())
            .arg(self.plan.w5_window.as_millis().to_string())
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .output()
            .await?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let r = match (out.status.success(), ScaleResult::parse(&stdout)) {
            (true, Some(r)) => r,
            _ => {
                return Err(format!(
                    "W5: the measuring child process failed ({}); its output: {stdout}",
                    out.status
                )
                .into())
            }
        };
        if r.lost > 0 || r.released_false > 0 {
            return Err(format!(
                "W5: {} of {} locks were lost while held with renewal ({} releases reported \
                 the lock lost)",
                r.lost, r.locks, r.released_false
            )
            .into());
        }
        let renewed_all = r.renewed == r.locks;
        let cpu = r.cpu_pct();
        let mem = r.rss_growth_mib();
        let what = format!("{} locks, lease {} s", r.locks, r.lease_ms as f64 / 1000.0);
        self.rows.push(Row {
            workload: format!("W5 scale CPU ({what})"),
            fencelock: format!("{cpu:.2} % of a core"),
            raw: "-".into(),
            ratio: "-".into(),
            target: "<= 5 %, every lock renewed".into(),
            pass: cpu <= 5.0 && renewed_all,
        });
        self.rows.push(Row {
            workload: format!("W5 scale memory ({what})"),
            fencelock: format!("+{mem:.1} MiB RSS"),
            raw: "-".into(),
            ratio: "-".into(),
            target: "<= 64 MiB".into(),
            pass: mem <= 64.0,
        });
        self.notes.push(format!(
            "W5: acquired {} locks in {:.2} s, held {:.1} s ({} renewed, 0 lost, CPU {:.0} ms), \
             released in {:.2} s; RSS {:.1} MiB before, {:.1} MiB after acquiring, peak {:.1} MiB",
            r.locks,
            r.acquire_ms as f64 / 1000.0,
            r.window_ms as f64 / 1000.0,
            r.renewed,
            r.cpu_ms,
            r.release_ms as f64 / 1000.0,
            r.rss_before_kib as f64 / 1024.0,
            r.rss_held_kib as f64 / 1024.0,
            r.rss_peak_kib as f64 / 1024.0,
        ));
        Ok(())
    }
}

fn print_table(rows: &[Row]) {
    let head = [
        "workload",
        "fencelock",
        "raw async-nats",
        "ratio",
        "target",
        "result",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.workload.clone(),
                r.fencelock.clone(),
                r.raw.clone(),
                r.ratio.clone(),
                r.target.clone(),
                pass_str(r.pass).to_owned(),
            ]
        })
        .collect();
    let mut width = head.map(|h| h.chars().count());
    for c in &cells {
        for (w, s) in width.iter_mut().zip(c) {
            *w = (*w).max(s.chars().count());
        }
    }
    let line = |c: &[String]| {
        let parts: Vec<String> = c
            .iter()
            .zip(width)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect();
        println!("| {} |", parts.join(" | "));
    };
    line(&head.map(String::from));
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for c in &cells {
        line(c);
    }
}

async fn run(args: Args) -> Res<bool> {
    let begun = Instant::now();
    let plan = Plan::new(args.quick);
    // Keep the server alive until the end of the run (dropping it kills it).
    let (_server, url) = match &args.url {
        Some(u) => (None, u.clone()),
        None => {
            let s = NatsServer::try_start()?;
            let u = s.url();
            (Some(s), u)
        }
    };
    let nc = async_nats::connect(url.as_str()).await?;
    let version = nc.server_info().version.clone();
    let unique = format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() % 1_000_000)
            .unwrap_or(0)
    );
    let namespace = format!("fencelock_bench_{unique}");
    let raw = Raw::create(nc.clone(), &format!("fencelock_bench_raw_{unique}")).await?;
    let seq_keys = raw.keys("seq-", KEYS).await?;
    let par_keys = raw.keys("par-", KEYS).await?;
    println!(
        "fencelock-bench{}: nats-server {version} at {url}{}; {} cores",
        if args.quick { " --quick" } else { "" },
        if args.url.is_none() {
            " (started by the bench)"
        } else {
            ""
        },
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let mut b = Bench {
        url: url.clone(),
        namespace: namespace.clone(),
        plan,
        raw: raw.clone(),
        seq_keys,
        par_keys,
        raw_seq_all: Tally::default(),
        rows: Vec::new(),
        notes: Vec::new(),
    };
    let result = async {
        if args.runs("W1") {
            b.w1().await?;
        }
        if args.runs("W2") {
            b.w2().await?;
        }
        if args.runs("W3") {
            b.w3().await?;
        }
        if args.runs("W4") {
            b.w4().await?;
        }
        if args.runs("W5") {
            b.w5().await?;
        }
        if b.raw_seq_all.ops == 0 {
            let d = b.plan.round;
            b.raw_seq(d).await?;
        }
        Ok::<_, BoxError>(())
    }
    .await;
    // Leave nothing behind on a server we did not start.
    raw.destroy().await;
    let _ = async_nats::jetstream::new(nc.clone())
        .delete_key_value(&namespace)
        .await;
    result?;

    let rtt = b.raw_seq_all.rtt();
    println!(
        "raw sequential cycle (create + compare-and-delete, 2 round trips): {:.0} cycles/s; \
         RTT = half a cycle = {:.1} us",
        b.raw_seq_all.rate(),
        us(rtt)
    );
    println!();
    print_table(&b.rows);
    println!();
    for n in &b.notes {
        println!("{n}");
    }
    let passed = b.rows.iter().all(|r| r.pass);
    println!(
        "{} of {} figures reach their targets; run took {:.1} s",
        b.rows.iter().filter(|r| r.pass).count(),
        b.rows.len(),
        begun.elapsed().as_secs_f64()
    );
    Ok(passed)
}

async fn w5_child(mut it: impl Iterator<Item = String>) -> Res<()> {
    let mut next = || it.next().ok_or("--w5-child: missing argument");
    let url = next()?;
    let namespace = next()?;
    let locks: usize = next()?.parse()?;
    let lease = Duration::from_millis(next()?.parse()?);
    let window = Duration::from_millis(next()?.parse()?);
    scale::child(&url, &namespace, locks, lease, window).await
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut it = std::env::args().skip(1).peekable();
    if it.peek().map(String::as_str) == Some("--w5-child") {
        it.next();
        return match w5_child(it).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fencelock-bench W5 child: {e}");
                ExitCode::from(2)
            }
        };
    }
    if it.peek().is_some_and(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse_args(it) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let check = args.check;
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) if !check => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("fencelock-bench: {e}");
            ExitCode::from(2)
        }
    }
}
