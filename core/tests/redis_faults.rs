//! Redis regression tests for issue 13's bugs: lease expiry judged by a waiter, a release
//! repeated by the cluster connection, object expiry under a live holder, awkward keys and
//! labels, and delayed duplicate writes. Each runs against real redis-server processes.

mod support;

use fencelock::{Client, LockOptions};
use std::time::Instant;
use support::*;

/// A waiter that saw the lock early must not count the PTTL it reads later from its first
/// sighting: `wait` returns only once the holder is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_does_not_report_free_while_a_with_lock_callback_runs() {
    let srv = RedisServer::start();
    let holder = Client::redis(&srv.url())
        .namespace("wait13")
        .connect()
        .await
        .unwrap();
    let waiter = Client::redis(&srv.url())
        .namespace("wait13")
        .connect()
        .await
        .unwrap();
    let start = Instant::now();
    let inside = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = inside.clone();
    let h = tokio::spawn(async move {
        holder
            .with_lock_opts(
                "k",
                &LockOptions::default().with_lease(ms(4000)),
                |_| async move {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(ms(3500)).await;
                    flag.store(false, std::sync::atomic::Ordering::SeqCst);
                    Ok::<_, std::io::Error>(Some(b("done")))
                },
            )
            .await
    });
    tokio::time::sleep_until((start + ms(200)).into()).await;
    assert!(waiter.try_acquire("k").await.unwrap().is_none());
    tokio::time::sleep_until((start + ms(2500)).into()).await;
    let state = waiter.wait("k", Some(ms(10_000))).await.unwrap();
    let at = start.elapsed();
    assert!(
        !inside.load(std::sync::atomic::Ordering::SeqCst),
        "wait returned at {at:?} while the holder was still inside"
    );
    assert_eq!(state, Some(b("done")), "returned at {at:?}");
    h.await.unwrap().unwrap();
}

/// Runs of scripts (`EVALSHA`/`EVAL`) the server has answered so far.
fn script_calls(srv: &RedisServer) -> u64 {
    let info = fencelock_testkit::redis_cli(srv.port, &["INFO", "commandstats"]).unwrap();
    info.lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| {
            let calls = l.split("calls=").nth(1)?;
            calls.split(',').next()?.parse::<u64>().ok()
        })
        .sum()
}

/// An acquirer that first saw the lock long ago waits for the change feed or one timer at the
/// holder's expiry: it does not run the acquire script again and again until the lease ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acquirer_that_saw_the_lock_early_does_not_retry_until_expiry() {
    let srv = RedisServer::start();
    let holder = Client::redis(&srv.url())
        .namespace("poll13")
        .connect()
        .await
        .unwrap();
    let waiter = Client::redis(&srv.url())
        .namespace("poll13")
        .connect()
        .await
        .unwrap();
    let opts = LockOptions::default()
        .with_lease(ms(3000))
        .with_renew(false);
    let g = holder.acquire_with("k", &opts).await.unwrap();
    let start = Instant::now();
    assert!(waiter.try_acquire("k").await.unwrap().is_none());
    tokio::time::sleep(ms(1500)).await;
    let before = script_calls(&srv);
    let got = waiter.acquire("k", Some(ms(10_000))).await.unwrap();
    let after = script_calls(&srv);
    let at = start.elapsed();
    assert!(at >= ms(2900), "acquired at {at:?} while the 3 s lease ran");
    assert!(got.token() > g.token());
    // A read, a re-read at the expiry timer and the acquiring run; a few more at most.
    assert!(
        after - before <= 6,
        "{} script runs while waiting {at:?} for one lease to end",
        after - before
    );
}

/// With `object_expiry` no longer than the lease, renewals keep the state alive under its holder,
/// a new holder's acquisition extends a state about to expire, and a release with unchanged
/// state gives the state its expiry back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_expiry_never_removes_the_state_of_a_live_holder() {
    let srv = RedisServer::start();
    let c = Client::redis(&srv.url())
        .namespace("expiry13")
        .lease(ms(1000))
        .object_expiry(ms(1000))
        .connect()
        .await
        .unwrap();
    let opts = LockOptions::default();
    let g = c.acquire_with("k", &opts).await.unwrap();
    g.put(b("kept")).await.unwrap();
    // Several object expiries pass; the lease keeper renews meanwhile.
    tokio::time::sleep(ms(2500)).await;
    assert_eq!(
        c.get("k").await.unwrap().state,
        Some(b("kept")),
        "the state expired under its holder"
    );
    assert!(g.release(None).await.unwrap());
    let mut r = raw_redis(&srv).await;
    let pttl: i64 = redis::cmd("PTTL")
        .arg("fencelock:expiry13:{k}:state")
        .query_async(&mut r)
        .await
        .unwrap();
    assert!(
        (1..=1000).contains(&pttl),
        "after release the state expires by object_expiry again, PTTL {pttl}"
    );
    // The state has little time left when the next holder takes it; it must outlive the hold.
    tokio::time::sleep(ms(800)).await;
    let g = c
        .acquire_with("k", &opts.clone().with_renew(false))
        .await
        .unwrap();
    assert_eq!(g.initial_state(), Some(&b("kept")));
    tokio::time::sleep(ms(600)).await;
    assert_eq!(
        c.get("k").await.unwrap().state,
        Some(b("kept")),
        "the state expired right after a new holder acquired it"
    );
    assert!(g.release(None).await.unwrap());
    // Unheld, it expires as configured.
    tokio::time::sleep(ms(1300)).await;
    assert_eq!(c.get("k").await.unwrap().state, None);
}

/// Keys with braces (one beginning with `}` makes an empty hash tag, which Redis Cluster
/// ignores) keep their three Redis keys in one slot and work end to end on a Cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_with_braces_work_on_a_cluster() {
    let cluster = RedisCluster::start();
    let c = Client::redis(&cluster.url())
        .namespace("braces13")
        .connect()
        .await
        .unwrap();
    for key in ["}x", "}", "}}", "{a}", "a}b", "{", "x{y}z"] {
        let g = c
            .acquire(key, Some(ms(5000)))
            .await
            .unwrap_or_else(|e| panic!("acquiring {key:?}: {e}"));
        g.put(b(key)).await.unwrap();
        assert!(g.release(None).await.unwrap(), "{key:?}");
        assert_eq!(c.get(key).await.unwrap().state, Some(b(key)));
    }
}

/// `list_keys` (`fencelock ls`) on a Cluster scans every primary, and finds keys of every form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_covers_every_cluster_primary() {
    let cluster = RedisCluster::start();
    let c = Client::redis(&cluster.url())
        .namespace("list13")
        .connect()
        .await
        .unwrap();
    let mut keys: Vec<String> = (0..24).map(|i| format!("spread/{i}")).collect();
    keys.extend(["}x", "a}b", "{a}"].map(String::from));
    for key in &keys {
        let g = c.acquire(key.as_str(), Some(ms(5000))).await.unwrap();
        g.put(b(key)).await.unwrap();
        if key.ends_with('3') {
            std::mem::forget(g); // still held: listed by its lock key
        } else {
            g.release(None).await.unwrap();
        }
    }
    let primaries: std::collections::HashSet<u16> = (0..24)
        .map(|i| cluster.node_of(&format!("fencelock:list13:{{spread/{i}}}:state")))
        .collect();
    assert!(
        primaries.len() > 1,
        "keys on one primary only: {primaries:?}"
    );
    let mut want = keys.clone();
    want.sort();
    assert_eq!(c.list_keys("").await.unwrap(), want);
    assert_eq!(c.list_keys("}").await.unwrap(), ["}x"]);
    assert_eq!(c.list_keys("spread/1").await.unwrap().len(), 11);
    c.delete("spread/5").await.unwrap();
    assert_eq!(c.list_keys("spread/").await.unwrap().len(), 23);
}

/// A line break in a holder label would shift the fields of the Redis release notices: it is
/// refused with an error that names the label.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_with_a_line_break_is_refused() {
    let srv = RedisServer::start();
    let c = Client::redis(&srv.url())
        .namespace("label13")
        .connect()
        .await
        .unwrap();
    let e = c
        .acquire_with("k", &LockOptions::default().with_label("host\n7"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), fencelock::ErrorKind::InvalidArgument, "{e}");
    assert!(e.to_string().contains("host\\n7"), "{e}");
    let g = c
        .acquire_with("k", &LockOptions::default().with_label("host:7 (a)"))
        .await
        .unwrap();
    assert_eq!(
        c.get("k").await.unwrap().holder.unwrap().label,
        "host:7 (a)"
    );
    g.release(None).await.unwrap();
}

/// A Redis that may evict keys could delete a held lock or the fencing counter: `connect`
/// refuses it, naming the setting to change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_evicts_keys_is_refused_at_connect() {
    let srv =
        RedisServer::start_with(&["--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru"]);
    let e = Client::redis(&srv.url())
        .namespace("evict13")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), fencelock::ErrorKind::Backend, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("volatile-lru") && msg.contains("noeviction"),
        "{msg}"
    );
    // The same limit without eviction is fine.
    let srv = RedisServer::start_with(&["--maxmemory", "64mb", "--maxmemory-policy", "noeviction"]);
    let c = Client::redis(&srv.url())
        .namespace("evict13")
        .connect()
        .await
        .unwrap();
    c.acquire("k", None)
        .await
        .unwrap()
        .release(None)
        .await
        .unwrap();
}

/// The server's process id, from `INFO server`.
fn pid_of(port: u16) -> String {
    let info = fencelock_testkit::redis_cli(port, &["INFO", "server"]).unwrap_or_default();
    info.lines()
        .find_map(|l| l.trim().strip_prefix("process_id:"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no process_id in {info}"))
}

fn signal(pid: &str, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, pid])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// A release whose reply does not come in time (the server stalls past the reply timeout) may
/// or may not have run; it is asked again, and the answer must be the truth: released with the
/// state written. (Before, the caller got a `Backend` error and nothing was written.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_whose_reply_was_late_reports_what_happened() {
    let srv = RedisServer::start();
    late_release_reports_the_truth(&srv.url(), srv.port).await;
}

/// Stops the node serving key `k` while its holder releases, past the reply timeout.
async fn late_release_reports_the_truth(url: &str, port: u16) {
    let c = Client::redis(url)
        .namespace("late13")
        .connect()
        .await
        .unwrap();
    let g = c
        .acquire_with("k", &LockOptions::default().with_lease(ms(20_000)))
        .await
        .unwrap();
    let pid = pid_of(port);
    signal(&pid, "-STOP");
    let release = tokio::spawn(async move { g.release(Some(b("written"))).await });
    // Past the client's 500 ms reply timeout, so the first attempt fails and is asked again.
    tokio::time::sleep(ms(800)).await;
    signal(&pid, "-CONT");
    let released = release.await.unwrap();
    assert_eq!(c.get("k").await.unwrap().state, Some(b("written")));
    assert!(
        released.as_ref().is_ok_and(|r| *r),
        "the state was written, but release said {released:?}"
    );
}
