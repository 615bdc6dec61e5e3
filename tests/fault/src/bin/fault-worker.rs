//! A process that takes part in fault tests.
//!
//! `fault-worker hold URL NS KEY LEASE_MS` acquires KEY (renewing), prints `ACQUIRED <token>`,
//! then for each stdin line `write` tries a put + release and prints `PUT ok|<error kind>`,
//! `RELEASED true|false`, and `LOST` if the lost signal had fired.
//!
//! `fault-worker increment URL NS KEY ITERATIONS LEASE_MS HOLD_MS` appends `<token>.1` to the
//! key's state (a comma-separated log, the history checker's format) ITERATIONS times, holding
//! each lock HOLD_MS, and prints `OK <token>`, `REFUSED <token>` or `UNKNOWN <token>` for each
//! release.

use fencelock::{Bytes, Client, ErrorKind, LockOptions};
use std::io::BufRead;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let result = rt.block_on(async {
        match args.first().map(String::as_str) {
            Some("hold") => hold(&args[1..]).await,
            Some("increment") => increment(&args[1..]).await,
            _ => Err("usage: fault-worker hold|increment ...".to_string()),
        }
    });
    if let Err(e) = result {
        eprintln!("fault-worker: {e}");
        std::process::exit(2);
    }
}

fn num(args: &[String], i: usize, what: &str) -> Result<u64, String> {
    args.get(i)
        .ok_or(format!("missing {what}"))?
        .parse()
        .map_err(|e| format!("{what}: {e}"))
}

async fn connect(url: &str, ns: &str, lease_ms: u64) -> Result<Client, String> {
    Client::builder(url)
        .namespace(ns)
        .lease(Duration::from_millis(lease_ms))
        .label(format!("fault-worker {}", std::process::id()))
        .connect()
        .await
        .map_err(|e| e.to_string())
}

async fn hold(args: &[String]) -> Result<(), String> {
    let (url, ns, key) = (&args[0], &args[1], &args[2]);
    let client = connect(url, ns, num(args, 3, "LEASE_MS")?).await?;
    let guard = client
        .acquire(key.as_str(), Some(Duration::from_secs(30)))
        .await
        .map_err(|e| e.to_string())?;
    println!("ACQUIRED {}", guard.token());
    for line in std::io::stdin().lock().lines() {
        if line.map_err(|e| e.to_string())?.trim() != "write" {
            continue;
        }
        match guard
            .put(Bytes::from_static(b"written by the paused holder"))
            .await
        {
            Ok(()) => println!("PUT ok"),
            Err(e) => println!("PUT {}", e.kind()),
        }
        match guard
            .release(Some(Bytes::from_static(b"released by the paused holder")))
            .await
        {
            Ok(released) => println!("RELEASED {released}"),
            Err(e) => println!("RELEASED {}", e.kind()),
        }
        if guard.is_lost() {
            println!("LOST");
        }
        break;
    }
    client.close().await;
    Ok(())
}

async fn increment(args: &[String]) -> Result<(), String> {
    let (url, ns, key) = (&args[0], &args[1], &args[2]);
    let iterations = num(args, 3, "ITERATIONS")?;
    let client = connect(url, ns, num(args, 4, "LEASE_MS")?).await?;
    let hold = Duration::from_millis(num(args, 5, "HOLD_MS")?);
    for _ in 0..iterations {
        let opts = LockOptions::timeout(Duration::from_secs(60)).with_renew(false);
        // A worker that was paused (SIGSTOP) may find its first request after the pause timed
        // out by the client's own clock: a transient error an application retries. Safety is
        // what this suite checks; an attempt that did take the lock only delays the next one
        // by a lease.
        let mut attempt = 0;
        let guard = loop {
            match client.acquire_with(key.as_str(), &opts).await {
                Ok(g) => break g,
                Err(e) if e.kind() == ErrorKind::Backend && attempt < 5 => {
                    attempt += 1;
                    eprintln!("fault-worker: retrying after a transient error: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e.to_string()),
            }
        };
        let mut log = guard
            .initial_state()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default();
        if !log.is_empty() {
            log.push(',');
        }
        log.push_str(&format!("{}.1", guard.token()));
        tokio::time::sleep(hold).await;
        match guard.release(Some(Bytes::from(log))).await {
            Ok(released) => println!(
                "{} {}",
                if released { "OK" } else { "REFUSED" },
                guard.token()
            ),
            // No answer (timed out after a pause): the write may or may not have landed.
            Err(e) if e.kind() == ErrorKind::Backend => println!("UNKNOWN {}", guard.token()),
            Err(e) => return Err(e.to_string()),
        }
    }
    client.close().await;
    Ok(())
}
