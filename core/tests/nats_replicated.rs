//! Contention on a replicated (R3) NATS bucket: a compare-and-set the cluster refuses is a
//! conflict like on a single server, so contenders wait for the lock instead of failing.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use support::*;

/// Increments per client; four clients with several tasks each contend for one key.
const CLIENTS: usize = 4;
const TASKS_PER_CLIENT: usize = 2;
const INCREMENTS_PER_TASK: u64 = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_contending_clients_on_an_r3_bucket_count_exactly_without_errors() {
    let fx = Fixture::nats_r3();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(client(&fx, "r3count").await);
    }
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in &clients {
        for _ in 0..TASKS_PER_CLIENT {
            let c = c.clone();
            let errors = errors.clone();
            tasks.push(tokio::spawn(async move {
                let mut done = 0;
                while done < INCREMENTS_PER_TASK {
                    let r = c
                        .with_lock("counter", Some(ms(30_000)), |s| async move {
                            let n: u64 = s
                                .map(|b| String::from_utf8_lossy(&b).parse().unwrap())
                                .unwrap_or(0);
                            Ok::<_, std::io::Error>(Some(b(&(n + 1).to_string())))
                        })
                        .await;
                    match r {
                        Ok(_) => done += 1,
                        Err(e) => {
                            // Counted, not retried blindly: an error here is the bug.
                            eprintln!("with_lock failed: {e}");
                            errors.fetch_add(1, Ordering::Relaxed);
                            if errors.load(Ordering::Relaxed) > 50 {
                                return;
                            }
                        }
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed();
    let total = (CLIENTS * TASKS_PER_CLIENT) as u64 * INCREMENTS_PER_TASK;
    let errors = errors.load(Ordering::Relaxed);
    eprintln!(
        "R3 contention: {total} increments by {CLIENTS} clients, {errors} errors, {elapsed:?}"
    );
    assert_eq!(
        errors, 0,
        "with_lock on an R3 bucket must not fail under contention"
    );
    let s = clients[0].get("counter").await.unwrap().state.unwrap();
    assert_eq!(String::from_utf8_lossy(&s), total.to_string());
}
