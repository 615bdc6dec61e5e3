//! What every scenario file shares: a three-node proxied NATS cluster run with a workload from
//! several client processes while a fault function breaks it, then the history check.
#![allow(dead_code)]

use fencelock_fault_tests::history::{Bounds, Violation};
use fencelock_fault_tests::workload::{
    connect, final_log, join_processes, report, report_accepting, start_processes, Mix, Recorder,
};
use fencelock_testkit::NatsFaultCluster;
use std::time::{Duration, Instant};

/// The key every scenario's processes contend for.
pub const KEY: &str = "k";

/// How long a client process may still run after the scenario's end (every operation has its
/// own timeout; this only bounds a stuck one).
pub const GRACE: Duration = Duration::from_secs(40);

/// The stream behind namespace `ns`'s bucket.
pub fn stream(ns: &str) -> String {
    format!("KV_{ns}")
}

/// Waiters in a cluster under faults: woken within lease + this after the key is free (a
/// leader election and the client's reconnect fit in it).
pub fn cluster_bounds() -> Bounds {
    Bounds {
        lease_slack: Duration::from_millis(250),
        wake_within: Duration::from_secs(10),
    }
}

/// Starts a proxied cluster, creates the R3 file bucket `ns`, runs `processes` clients (each
/// given every node's proxy URL) for `run` while `inject` runs on a blocking thread (it returns
/// how many faults it injected), then checks the history against the final state.
pub async fn nats_scenario<F>(
    name: &str,
    ns: &str,
    processes: usize,
    mix: Mix,
    run: Duration,
    inject: F,
) -> Vec<Violation>
where
    F: FnOnce(&mut NatsFaultCluster, &Recorder, Instant) -> usize + Send + 'static,
{
    let mut cluster = tokio::task::spawn_blocking(NatsFaultCluster::start)
        .await
        .unwrap();
    let url = cluster.url();
    let mut clients = Vec::new();
    for _ in 0..processes {
        clients.push(connect(&url, ns, mix.lease, Some(3)).await);
    }
    let rec = Recorder::default();
    let until = Instant::now() + run;
    let handles = start_processes(clients, KEY, &mix, until, &rec);
    let r = rec.clone();
    let (cluster, faults) = tokio::task::spawn_blocking(move || {
        let n = inject(&mut cluster, &r, until);
        (cluster, n)
    })
    .await
    .unwrap();
    join_processes(handles, until, GRACE).await;
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.heal_all();
        cluster.wait_ready().expect("the cluster recovers");
        cluster
    })
    .await
    .unwrap();
    let reader = connect(&cluster.url(), ns, mix.lease, Some(3)).await;
    let log = final_log(&reader, KEY).await;
    reader.close().await;
    let v = report(name, &rec.history(), &log, faults, cluster_bounds());
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .unwrap();
    v
}

/// Sleeps until `at` (no-op when past).
pub fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}

/// Runs `processes` clients of `url` (built by `configure`) for `run` while `inject` breaks the
/// store on a blocking thread, then checks the history against the final state read through a
/// fresh client. For single servers and Redis groups; NATS clusters use [`nats_scenario`].
#[allow(clippy::too_many_arguments)]
pub async fn scenario<F, C>(
    name: &str,
    url: &str,
    ns: &str,
    processes: usize,
    mix: Mix,
    run: Duration,
    configure: C,
    bounds: Bounds,
    accepted: &[&str],
    inject: F,
) -> Vec<Violation>
where
    F: FnOnce(&Recorder, Instant) -> usize + Send + 'static,
    C: Fn(fencelock::ClientBuilder) -> fencelock::ClientBuilder + Copy,
{
    use fencelock_fault_tests::workload::connect_with;
    let mut clients = Vec::new();
    for _ in 0..processes {
        clients.push(connect_with(url, ns, mix.lease, configure).await);
    }
    let rec = Recorder::default();
    let until = Instant::now() + run;
    let handles = start_processes(clients, KEY, &mix, until, &rec);
    let r = rec.clone();
    let faults = tokio::task::spawn_blocking(move || inject(&r, until))
        .await
        .unwrap();
    join_processes(handles, until, GRACE).await;
    let reader = connect_with(url, ns, mix.lease, configure).await;
    let log = final_log(&reader, KEY).await;
    reader.close().await;
    report_accepting(name, &rec.history(), &log, faults, bounds, accepted)
}
