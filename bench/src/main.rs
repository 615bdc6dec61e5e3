//! fencelock-bench: the W1-W5 figures of docs/ARCHITECTURE.md, each next to the raw store
//! client's baseline measured in the same run (async-nats KV for NATS, the `redis` crate for
//! Redis), printed as one table per backend.
//!
//! ```text
//! cargo run --release -p fencelock-bench -- [--backend nats|redis|all] [--quick] [--only W1,W3]
//!     [--url nats://...] [--redis-url redis://...] [--redis-fsync everysec|always|off] [--check]
//!     [--replicas 3]
//! ```
//!
//! Without `--url` it starts its own nats-server (the project's `.venv/bin/nats-server`, see
//! `make setup`); without `--redis-url` its own redis-server (the testkit's, see
//! `--redis-fsync`). Ratios compare against raw rounds interleaved with the workload's rounds
//! (alternating which goes first), so that load from elsewhere on the machine hits both alike.

mod args;
mod fairness;
mod metrics;
mod nats_target;
mod raw;
mod raw_redis;
mod raw_store;
mod raw_w2;
mod report;
mod scale;
mod workloads;

use args::{parse_args, Args, Backend, Plan, USAGE};
use fairness::Fairness;
use fencelock::Client;
use fencelock_testkit::RedisServer;
use metrics::{us, Calls, Cpu, CpuMark, Tally};
use nats_target::Target;
use raw::Raw;
use raw_redis::RedisRaw;
use raw_store::RawStore;
use report::{print_table, Row};
use scale::ScaleResult;
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Res<T> = Result<T, BoxError>;

const KEYS: usize = 64;
const W2_CLIENTS: usize = 2;
const W2_TASKS: usize = 8;

/// Shared state of one run.
struct Bench {
    backend: Backend,
    url: String,
    namespace: String,
    plan: Plan,
    store: RawStore,
    /// Every raw sequential round of the run, for the RTT in the header.
    raw_seq_all: Tally,
    rows: Vec<Row>,
    notes: Vec<String>,
    /// The store server's process when the bench started it (NATS: its CPU time is read from
    /// `/proc`; Redis reports its own).
    server_pid: Option<u32>,
}

fn key_names(prefix: &str) -> Vec<String> {
    (0..KEYS).map(|i| format!("{prefix}{i}")).collect()
}

impl Bench {
    async fn raw_seq(&mut self, d: Duration) -> Res<(u64, Duration)> {
        let r = self.store.sequential(d).await?;
        self.raw_seq_all.add(r);
        Ok(r)
    }

    async fn raw_par(&mut self, d: Duration) -> Res<(u64, Duration)> {
        self.store.parallel(d).await
    }

    async fn cpu_mark(&self) -> CpuMark {
        let server = match self.server_pid {
            Some(pid) => metrics::proc_cpu_us(pid),
            None => self.store.server_cpu_us().await,
        };
        CpuMark {
            client: scale::cpu_time(),
            server,
        }
    }

    fn note_cpu(&mut self, workload: &str, fl: &Cpu, raw: &Cpu) {
        let server = match self.backend {
            Backend::Nats => "nats-server",
            Backend::Redis => "redis-server",
        };
        self.notes.push(format!(
            "{workload}: CPU per cycle: fencelock {}; raw {}",
            fl.describe(server),
            raw.describe(server)
        ));
    }

    /// Notes how many store round trips (scripts) one fencelock operation took (Redis).
    fn note_calls(&mut self, workload: &str, what: &str, calls: &Calls, raw: &str) {
        if let Some(per) = calls.per_op() {
            self.notes.push(format!(
                "{workload}: {per:.2} scripts (EVALSHA round trips, counted by the server) per \
                 {what}, over {} of them; {raw}",
                calls.ops
            ));
        }
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
        let mut calls = Calls::default();
        let (mut fl_cpu, mut raw_cpu) = (Cpu::default(), Cpu::default());
        self.store.sequential(self.plan.warm).await?;
        workloads::uncontended(&client, &keys, self.plan.warm).await?;
        for r in 0..self.plan.rounds {
            for raw_turn in [r % 2 == 0, r % 2 == 1] {
                let m0 = self.cpu_mark().await;
                if raw_turn {
                    let t = self.raw_seq(self.plan.round).await?;
                    raw_cpu.add(m0, self.cpu_mark().await, t.0);
                    raw.add(t);
                } else {
                    let c0 = self.store.script_calls().await;
                    let t = workloads::uncontended(&client, &keys, self.plan.round).await?;
                    calls.add(c0, self.store.script_calls().await, t.0);
                    fl_cpu.add(m0, self.cpu_mark().await, t.0);
                    fl.add(t);
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
        self.note_cpu("W1", &fl_cpu, &raw_cpu);
        self.note_calls(
            "W1",
            "acquire+release",
            &calls,
            "a raw cycle is SET NX PX + 1 script",
        );
        Ok(())
    }

    async fn w2(&mut self) -> Res<()> {
        let key = "w2-counter";
        let mut clients = Vec::new();
        for i in 0..W2_CLIENTS {
            clients.push(self.client(&format!("bench W2 client {i}")).await?);
        }
        clients[0].delete(key).await?;
        let raw_w2 = self.store.contended(&self.url).await?;
        let raw_before = raw_w2.counter().await?;
        let (mut raw, mut fl, mut raw_cnt) = (Tally::default(), Tally::default(), Tally::default());
        let (mut fair, mut raw_fair) = (Fairness::default(), Fairness::default());
        let mut calls = Calls::default();
        self.store.sequential(self.plan.warm).await?;
        let mut done = workloads::contended(&clients, W2_TASKS, key, self.plan.warm)
            .await?
            .ops;
        let mut raw_done = raw_w2.run(W2_TASKS, self.plan.warm).await?.ops;
        for r in 0..self.plan.rounds {
            for raw_turn in [r % 2 == 0, r % 2 == 1] {
                if raw_turn {
                    raw.add(self.raw_seq(self.plan.round).await?);
                    // The raw contended counter, for the fairness figures.
                    let rr = raw_w2.run(W2_TASKS, self.plan.round).await?;
                    raw_done += rr.ops;
                    raw_cnt.add(rr.tally());
                    raw_fair.add(&rr);
                } else {
                    let c0 = self.store.script_calls().await;
                    let t = workloads::contended(&clients, W2_TASKS, key, self.plan.round).await?;
                    calls.add(c0, self.store.script_calls().await, t.ops);
                    done += t.ops;
                    fl.add(t.tally());
                    fair.add(&t);
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
        let raw_value = raw_w2.counter().await? - raw_before;
        if raw_value != raw_done {
            return Err(format!(
                "W2: the raw baseline's counter moved by {raw_value} after {raw_done} \
                 increments: the raw baseline is broken"
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
        self.fairness_rows(&fair, &raw_fair, fl, raw_cnt);
        self.notes.push(format!(
            "W2: final counter {value} = {done} increments (exact)"
        ));
        self.note_calls(
            "W2",
            "increment",
            &calls,
            "the floor is 2 (acquire, release with the new state)",
        );
        Ok(())
    }

    /// W2's fairness rows and closing note: fencelock against the raw contended counter.
    fn fairness_rows(&mut self, fl: &Fairness, raw: &Fairness, fl_rate: Tally, raw_rate: Tally) {
        let starved = fl.starved();
        self.rows.push(Row {
            workload: "W2 increments per task (min / median / max)".into(),
            fencelock: fl.describe(),
            raw: raw.describe(),
            ratio: format!(
                "min/median {:.2} (raw {:.2})",
                fl.evenness(),
                raw.evenness()
            ),
            target: "no task starves".into(),
            pass: starved == 0,
        });
        self.rows.push(Row {
            workload: "W2 longest single wait".into(),
            fencelock: format!("{:.1} ms", us(fl.longest()) / 1000.0),
            raw: format!("{:.1} ms", us(raw.longest()) / 1000.0),
            ratio: format!(
                "{:.2}x",
                fl.longest().as_secs_f64() / raw.longest().as_secs_f64().max(1e-9)
            ),
            target: "-".into(),
            pass: true,
        });
        let raw_how = match self.backend {
            Backend::Nats => {
                "create + read + (compare-and-set counter, compare-and-delete lock) pipelined, \
                 3 round trips; the tasks of a connection wait on one shared KV watch of the lock"
            }
            Backend::Redis => {
                "SET NX PX pipelined with GET, then one release script (SET counter, DEL, \
                 PUBLISH), 2 round trips; each task waits on its own pub/sub subscription"
            }
        };
        let verdict = |f: &Fairness| match f.starved() {
            0 => "no task starved".to_owned(),
            n => format!("{n} of {} tasks STARVED (0 increments)", f.tasks()),
        };
        self.notes.push(format!(
            "W2 fairness over the measured rounds ({} tasks): fencelock {} increments per task \
             (min / median / max), longest single wait {:.1} ms: {}. Raw contended counter \
             ({raw_how}): {:.0} increments/s, {} per task, longest wait {:.1} ms: {}. \
             fencelock's rate is {:.2}x the raw contended counter's",
            fl.tasks(),
            fl.describe(),
            us(fl.longest()) / 1000.0,
            verdict(fl),
            raw_rate.rate(),
            raw.describe(),
            us(raw.longest()) / 1000.0,
            verdict(raw),
            fl_rate.rate() / raw_rate.rate().max(1e-9),
        ));
    }

    async fn w3(&mut self) -> Res<()> {
        let settle = self.plan.w3_settle;
        let a = self.client("bench W3 A").await?;
        let b = self.client("bench W3 B").await?;
        let mut handoff = workloads::Handoff::new([a.clone(), b.clone()], "w3", settle);
        let mut raw_handoff = self.store.handoff(&self.url, settle).await?;
        let mut calls = Calls::default();
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
                    let c0 = self.store.script_calls().await;
                    lat.extend(handoff.run(self.plan.w3_reps).await?);
                    let c1 = self.store.script_calls().await;
                    calls.add(c0, c1, self.plan.w3_reps as u64);
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
        if self.backend == Backend::Redis {
            self.notes.push(
                "W3 (Redis): the raw handoff's waiter is subscribed to a pub/sub channel; the \
                 holder releases with the compare-and-delete script and a PUBLISH pipelined in \
                 one round trip; the waiter's SET NX PX follows the notice"
                    .into(),
            );
        }
        self.note_calls(
            "W3",
            "handoff, both clients together",
            &calls,
            "release + acquire is 2; the raw handoff uses 1 script and 1 SET",
        );
        Ok(())
    }

    async fn w4(&mut self) -> Res<()> {
        let client = self.client("bench W4").await?;
        let keys = key_names("w4-");
        let (mut raw, mut fl) = (Tally::default(), Tally::default());
        let mut calls = Calls::default();
        let (mut fl_cpu, mut raw_cpu) = (Cpu::default(), Cpu::default());
        self.raw_par(self.plan.warm).await?;
        workloads::parallel(&client, &keys, self.plan.warm).await?;
        for r in 0..self.plan.rounds {
            for raw_turn in [r % 2 == 0, r % 2 == 1] {
                let m0 = self.cpu_mark().await;
                if raw_turn {
                    let t = self.raw_par(self.plan.round).await?;
                    raw_cpu.add(m0, self.cpu_mark().await, t.0);
                    raw.add(t);
                } else {
                    let c0 = self.store.script_calls().await;
                    let t = workloads::parallel(&client, &keys, self.plan.round).await?;
                    calls.add(c0, self.store.script_calls().await, t.0);
                    fl_cpu.add(m0, self.cpu_mark().await, t.0);
                    fl.add(t);
                }
            }
        }
        client.close().await;
        // The targets differ by store: a Redis cycle runs two scripts where the raw one runs
        // SET NX and one script, so its floor sits lower than NATS's two KV writes.
        let target = match self.backend {
            Backend::Nats => 0.9,
            Backend::Redis => 0.6,
        };
        self.ratio_row("W4 parallel keys (64 tasks)", "cycles", fl, raw, target);
        self.note_cpu("W4", &fl_cpu, &raw_cpu);
        self.note_calls(
            "W4",
            "acquire+release",
            &calls,
            "a raw cycle is SET NX PX + 1 script",
        );
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

/// A unique suffix for this run's bucket, namespace and raw keys.
fn unique() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() % 1_000_000)
            .unwrap_or(0)
    )
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0)
}

/// Runs the selected workloads of `b`, raw and fencelock interleaved.
async fn workloads(b: &mut Bench, args: &Args) -> Res<()> {
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
    Ok(())
}

/// Prints one backend's results; true when every figure reached its target.
fn report(b: &Bench, raw_cycle: &str, begun: Instant) -> bool {
    let rtt = b.raw_seq_all.rtt();
    println!(
        "raw sequential cycle ({raw_cycle}, 2 round trips): {:.0} cycles/s; \
         RTT = half a cycle = {:.1} us",
        b.raw_seq_all.rate(),
        us(rtt)
    );
    println!();
    print_table(&b.rows, b.backend.raw_label());
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
    passed
}

async fn run_nats(args: &Args) -> Res<bool> {
    let begun = Instant::now();
    let plan = Plan::new(args.quick);
    // Keep the server alive until the end of the run (dropping it kills it).
    let (target, url) = Target::start(args.url.as_deref(), args.replicas)?;
    let nc = nats_target::connect_raw(&url).await?;
    let version = nc.server_info().version.clone();
    let unique = unique();
    let namespace = format!("fencelock_bench_{unique}");
    let raw = Raw::create(
        nc.clone(),
        &format!("fencelock_bench_raw_{unique}"),
        args.replicas,
    )
    .await?;
    nats_target::create_namespace(&url, &namespace, args.replicas).await?;
    let seq = raw.keys("seq-", KEYS).await?;
    let par = raw.keys("par-", KEYS).await?;
    println!(
        "fencelock-bench{} (nats): nats-server {version} at {url}{}; R{} buckets; {} cores",
        if args.quick { " --quick" } else { "" },
        target.describe(),
        args.replicas,
        cores()
    );
    let mut b = Bench {
        backend: Backend::Nats,
        url: url.clone(),
        namespace: namespace.clone(),
        plan,
        store: RawStore::Nats {
            raw: raw.clone(),
            seq,
            par,
        },
        raw_seq_all: Tally::default(),
        rows: Vec::new(),
        notes: Vec::new(),
        server_pid: target.pid(),
    };
    let result = workloads(&mut b, args).await;
    // Leave nothing behind on a server we did not start.
    raw.destroy().await;
    let _ = async_nats::jetstream::new(nc.clone())
        .delete_key_value(&namespace)
        .await;
    result?;
    Ok(report(&b, "create + compare-and-delete", begun))
}

async fn run_redis(args: &Args) -> Res<bool> {
    let begun = Instant::now();
    let plan = Plan::new(args.quick);
    // Keep the server alive until the end of the run (dropping it kills it). The testkit's
    // server runs with `--appendonly yes --appendfsync always`; later arguments override it.
    let (_server, url) = match &args.redis_url {
        Some(u) => (None, u.clone()),
        None => {
            let extra: &[&str] = match args.redis_fsync.as_str() {
                "always" => &[],
                "off" => &["--appendonly", "no"],
                _ => &["--appendfsync", "everysec"],
            };
            let s = std::panic::catch_unwind(|| RedisServer::start_with(extra))
                .map_err(|_| "cannot start redis-server (see the message above)")?;
            let u = s.url();
            (Some(s), u)
        }
    };
    let unique = unique();
    let namespace = format!("fencelock_bench_{unique}");
    let raw = RedisRaw::connect(&url, &format!("fencelock_bench_raw_{unique}:")).await?;
    let seq = raw.keys("seq-", KEYS).await?;
    let par = raw.keys("par-", KEYS).await?;
    let info = raw.server_info().await;
    println!(
        "fencelock-bench{} (redis): redis-server {} at {url}{} ({}); {} cores",
        if args.quick { " --quick" } else { "" },
        info.version,
        if args.redis_url.is_none() {
            " (started by the bench)"
        } else {
            ""
        },
        info.persistence,
        cores()
    );
    let mut b = Bench {
        backend: Backend::Redis,
        url: url.clone(),
        namespace: namespace.clone(),
        plan,
        store: RawStore::Redis {
            raw: raw.clone(),
            seq,
            par,
        },
        raw_seq_all: Tally::default(),
        rows: Vec::new(),
        notes: Vec::new(),
        server_pid: None,
    };
    let result = workloads(&mut b, args).await;
    // Leave nothing behind on a server we did not start (fencelock's keys of this namespace,
    // fencing counters included, and the raw keys).
    raw.delete_matching(&format!("fencelock:{namespace}:*"))
        .await;
    raw.delete_matching(&raw.pattern()).await;
    result?;
    Ok(report(&b, "SET NX PX + compare-and-delete script", begun))
}

async fn run(args: Args) -> Res<bool> {
    let mut passed = true;
    for (i, backend) in args.backends.iter().enumerate() {
        if i > 0 {
            println!();
        }
        passed &= match backend {
            Backend::Nats => run_nats(&args).await?,
            Backend::Redis => run_redis(&args).await?,
        };
    }
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
