//! The soak's rows: which worker runs where, and the table they make.

use fencelock_testkit::{NatsServer, RedisServer};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// Growth allowed between the 10 % and the 100 % mark.
const TARGET_KIB: u64 = 4 * 1024;
const ROWS: [&str; 8] = [
    "rust",
    "python-sync",
    "python-asyncio",
    "node",
    "c",
    "go",
    "held-churn",
    "client-churn",
];
const BACKENDS: [&str; 3] = ["memory", "nats", "redis"];

pub struct Args {
    cycles: u64,
    rows: Vec<String>,
    backends: Vec<String>,
    check: bool,
}

impl Args {
    pub fn parse(args: &[String]) -> Result<Args, String> {
        let mut a = Args {
            cycles: 200_000,
            rows: ROWS.iter().map(|s| s.to_string()).collect(),
            backends: BACKENDS.iter().map(|s| s.to_string()).collect(),
            check: false,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match arg.as_str() {
                "--cycles" => {
                    let v = value("--cycles")?;
                    a.cycles =
                        v.parse().ok().filter(|n| *n >= 10).ok_or_else(|| {
                            format!("--cycles {v:?}: give a number of at least 10")
                        })?;
                }
                "--only" => a.rows = list(&value("--only")?, &ROWS, "row")?,
                "--backend" => a.backends = list(&value("--backend")?, &BACKENDS, "backend")?,
                "--check" => a.check = true,
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(a)
    }
}

fn list(v: &str, known: &[&str], what: &str) -> Result<Vec<String>, String> {
    v.split(',')
        .map(|s| {
            let s = s.trim();
            if known.contains(&s) {
                Ok(s.to_owned())
            } else {
                Err(format!("unknown {what} {s:?}; known: {}", known.join(", ")))
            }
        })
        .collect()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The command of one row (without URL, cycles and namespace) and its cycle count.
fn command(row: &str, cycles: u64) -> (Command, u64) {
    let root = repo();
    let me = std::env::current_exe().unwrap_or_else(|_| "fencelock-soak".into());
    let rust = |mode: &str| {
        let mut c = Command::new(&me);
        c.args(["worker", mode]);
        c
    };
    match row {
        "rust" => (rust("mixed"), cycles),
        // 10 rounds of 10 000 held locks, whatever --cycles says, unless it is smaller.
        "held-churn" => (rust("held-churn"), cycles.min(100_000)),
        "client-churn" => (rust("client-churn"), (cycles / 200).max(10)),
        "python-sync" | "python-asyncio" => {
            let mut c = Command::new(root.join(".venv/bin/python"));
            c.arg(root.join("python/bench/soak.py"));
            c.arg(if row == "python-sync" {
                "sync"
            } else {
                "asyncio"
            });
            (c, cycles)
        }
        "node" => {
            let mut c = Command::new("node");
            // V8's own warm-up is not what the row measures: a nursery that grows under a high
            // allocation rate (up to 2 x 16 MiB on Node 20), and background compiler and GC
            // threads whose allocator arenas fill over the first ~100 000 cycles. A fixed
            // 1 MiB nursery and no V8 background threads leave the memory that lock cycles keep.
            // (With default flags the RSS levels off too, only later; see soak/README.md.)
            c.args([
                "--expose-gc",
                "--single-threaded",
                "--min-semi-space-size=1",
                "--max-semi-space-size=1",
            ])
            .arg(root.join("node/bench/soak.mjs"));
            (c, cycles)
        }
        "c" => (
            Command::new(root.join("target/fencelock-c/soak-worker")),
            cycles,
        ),
        "go" => (
            Command::new(root.join("target/go/fencelock-soak-worker")),
            cycles,
        ),
        _ => unreachable!("rows are checked when parsed"),
    }
}

struct Outcome {
    rss10: u64,
    rss100: u64,
    millis: u64,
}

fn run_row(row: &str, url: &str, ns: &str, cycles: u64) -> Result<(Outcome, u64), String> {
    let (mut cmd, cycles) = command(row, cycles);
    let started = Instant::now();
    // glibc gives each thread that allocates an arena of its own, and they fill over the first
    // tens of thousands of cycles when many threads take turns calling in (Go runs cgo calls on
    // whichever of its threads is free): bounded warm-up, not growth. Two arenas for every row
    // alike (see soak/README.md for the figures without).
    cmd.env("MALLOC_ARENA_MAX", "2");
    let mut child = cmd
        .args([url, &cycles.to_string(), ns])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e} (run `make soak`, which builds it)"))?;
    let (mut rss10, mut rss100, mut ok) = (None, None, false);
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["rss", "10", kib] => rss10 = kib.parse().ok(),
            ["rss", "100", kib] => rss100 = kib.parse().ok(),
            ["ok", ..] => ok = true,
            _ => {}
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    match (rss10, rss100, ok && status.success()) {
        (Some(rss10), Some(rss100), true) => Ok((
            Outcome {
                rss10,
                rss100,
                millis: started.elapsed().as_millis() as u64,
            },
            cycles,
        )),
        _ => Err(format!("worker failed ({status})")),
    }
}

pub fn run(args: &Args) -> ExitCode {
    let nats = args
        .backends
        .iter()
        .any(|b| b == "nats")
        .then(NatsServer::start);
    let redis = args
        .backends
        .iter()
        .any(|b| b == "redis")
        .then(|| RedisServer::start_with(&["--appendonly", "no", "--save", ""]));
    let started = Instant::now();
    println!(
        "fencelock-soak: {} cycles per row; RSS growth between 10 % and 100 % of each row, \
         target <= {} MiB",
        args.cycles,
        TARGET_KIB / 1024
    );
    println!("| row | backend | cycles | time | RSS at 10 % | RSS at 100 % | growth | result |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut failed = 0;
    for backend in &args.backends {
        let url = match backend.as_str() {
            "nats" => nats.as_ref().map(NatsServer::url),
            "redis" => redis.as_ref().map(RedisServer::url),
            _ => Some("memory://".to_owned()),
        }
        .expect("server started above");
        for (i, row) in args.rows.iter().enumerate() {
            let ns = format!("soak-{}-{row}-{i}", std::process::id());
            match run_row(row, &url, &ns, args.cycles) {
                Ok((o, cycles)) => {
                    let growth = o.rss100 as i64 - o.rss10 as i64;
                    let pass = growth <= TARGET_KIB as i64;
                    failed += usize::from(!pass);
                    println!(
                        "| {row} | {backend} | {cycles} | {:.1} s | {:.1} MiB | {:.1} MiB | {:+.1} MiB | {} |",
                        o.millis as f64 / 1000.0,
                        o.rss10 as f64 / 1024.0,
                        o.rss100 as f64 / 1024.0,
                        growth as f64 / 1024.0,
                        if pass { "pass" } else { "FAIL" }
                    );
                }
                Err(e) => {
                    failed += 1;
                    println!("| {row} | {backend} | - | - | - | - | - | ERROR: {e} |");
                }
            }
        }
    }
    println!(
        "{} rows within target, {failed} not; run took {:.0} s",
        args.rows.len() * args.backends.len() - failed,
        started.elapsed().as_secs_f64()
    );
    if args.check && failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
