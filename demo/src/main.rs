//! `make demo`: starts a local nats-server (the pinned PyPI build), runs several worker
//! processes that contend for one key and increment a counter kept in the lock's state, and
//! checks that the final count is exact and that fencing tokens strictly increased.
//!
//! `fencelock-demo run [--workers N] [--iterations K] [--url nats://...]`
//! `fencelock-demo worker --url URL --name NAME --iterations K`

use fencelock::{Bytes, Client, LockOptions};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "demo/counter";
const NAMESPACE: &str = "fencelock-demo";

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") | None => run(&args),
        Some("worker") => worker(&args),
        Some(other) => Err(format!("unknown command {other:?}; use `run` or `worker`")),
    };
    if let Err(e) = result {
        eprintln!("demo failed: {e}");
        std::process::exit(1);
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let workers: usize = arg(args, "--workers")
        .map_or(Ok(4), |v| v.parse())
        .map_err(|e| format!("--workers: {e}"))?;
    let iterations: u64 = arg(args, "--iterations")
        .map_or(Ok(25), |v| v.parse())
        .map_err(|e| format!("--iterations: {e}"))?;
    let (_server, url) = match arg(args, "--url") {
        Some(u) => (None, u),
        None => {
            let s = fencelock_testkit::NatsServer::try_start()?;
            let url = s.url();
            println!("started nats-server {} at {url}", s.version);
            (Some(s), url)
        }
    };
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let client = rt
        .block_on(Client::nats(&url).namespace(NAMESPACE).connect())
        .map_err(|e| e.to_string())?;
    rt.block_on(client.delete(KEY)).map_err(|e| e.to_string())?;

    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut children = Vec::new();
    for i in 0..workers {
        let name = format!("rust-{}", i + 1);
        let child = Command::new(&exe)
            .args([
                "worker",
                "--url",
                &url,
                "--name",
                &name,
                "--iterations",
                &iterations.to_string(),
            ])
            .stdout(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start worker {name}: {e}"))?;
        children.push((name, child));
    }
    extra_workers(&url, iterations, &mut children);
    let total_workers = children.len() as u64;
    for (name, mut child) in children {
        let status = child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("worker {name} failed: {status}"));
        }
    }
    let info = rt.block_on(client.get(KEY)).map_err(|e| e.to_string())?;
    let state: Value =
        serde_json::from_slice(&info.state.unwrap_or_default()).map_err(|e| e.to_string())?;
    let count = state["count"].as_u64().unwrap_or(0);
    let expected = total_workers * iterations;
    println!(
        "final count {count} (expected {expected}) after {:.2?}; last token {}; {} processes",
        started.elapsed(),
        state["token"],
        total_workers
    );
    rt.block_on(client.close());
    if count != expected {
        return Err(format!("lost updates: count {count}, expected {expected}"));
    }
    println!("OK: every increment landed exactly once and tokens strictly increased");
    Ok(())
}

/// Workers in other languages join through `FENCELOCK_DEMO_WORKERS`: one per line,
/// `<label> <command...>`, each run as `<command...> <url> <name> <iterations>` where the name is
/// `<label>-<n>`. `scripts/demo` builds and lists the C, Go, Python and Node workers.
fn extra_workers(url: &str, iterations: u64, children: &mut Vec<(String, std::process::Child)>) {
    let Ok(list) = std::env::var("FENCELOCK_DEMO_WORKERS") else {
        return;
    };
    for (i, line) in list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let mut parts = line.split_whitespace();
        let (Some(label), Some(prog)) = (parts.next(), parts.next()) else {
            eprintln!("skipping worker line {line:?}: use `<label> <command...>`");
            continue;
        };
        let name = format!("{label}-{}", i + 1);
        match Command::new(prog)
            .args(parts)
            .args([url, &name, &iterations.to_string()])
            .spawn()
        {
            Ok(child) => children.push((name, child)),
            Err(e) => eprintln!("skipping worker {line:?}: {e}"),
        }
    }
}

fn worker(args: &[String]) -> Result<(), String> {
    let url = arg(args, "--url").ok_or("--url is required")?;
    let name = arg(args, "--name").unwrap_or_else(|| "worker".into());
    let iterations: u64 = arg(args, "--iterations")
        .map_or(Ok(10), |v| v.parse())
        .map_err(|e| format!("--iterations: {e}"))?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let client = Client::nats(&url)
            .namespace(NAMESPACE)
            .label(name.clone())
            .connect()
            .await
            .map_err(|e| e.to_string())?;
        let mut last = 0;
        for _ in 0..iterations {
            let guard = client
                .acquire_with(KEY, &LockOptions::timeout(Duration::from_secs(60)))
                .await
                .map_err(|e| e.to_string())?;
            let token = guard.token();
            let state: Value = guard
                .initial_state()
                .and_then(|s| serde_json::from_slice(s).ok())
                .unwrap_or_else(|| json!({"count": 0, "token": 0}));
            let prev_token = state["token"].as_u64().unwrap_or(0);
            // The fencing check a protected resource would make: refuse older tokens.
            if token <= prev_token || token <= last {
                return Err(format!(
                    "{name}: token {token} not above {prev_token}/{last}"
                ));
            }
            let count = state["count"].as_u64().unwrap_or(0) + 1;
            let next = json!({"count": count, "token": token, "worker": name});
            println!("{name:>8} token {token:>5} count {count:>4}");
            let ok = guard
                .release(Some(Bytes::from(next.to_string())))
                .await
                .map_err(|e| e.to_string())?;
            if !ok {
                return Err(format!(
                    "{name}: lost the lock before writing count {count}"
                ));
            }
            last = token;
        }
        client.close().await;
        Ok(())
    })
}
