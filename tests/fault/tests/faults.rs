//! Holders in other processes killed with SIGKILL or paused with SIGSTOP, against real servers,
//! and a history check (`history.rs`): accepted writes carry strictly increasing tokens and
//! none is lost.

use fencelock::{Client, ErrorKind};
use fencelock_fault_tests::history::{Bounds, Event, History, Op, Outcome};
use fencelock_testkit::{NatsServer, RedisServer};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const WORKER: &str = env!("CARGO_BIN_EXE_fault-worker");

struct Worker {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Worker {
    fn spawn(args: &[&str]) -> Worker {
        let mut child = Command::new(WORKER)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start fault-worker");
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        Worker { child, out }
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.out.read_line(&mut l).expect("read worker output");
        l.trim().to_owned()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {sig} failed");
    }

    fn send(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("write to worker");
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(url: &str, ns: &str) -> Client {
    Client::builder(url)
        .namespace(ns)
        .connect()
        .await
        .expect("connect")
}

async fn holder_killed(url: &str) {
    let lease = 600u64;
    let mut w = Worker::spawn(&["hold", url, "killed", "k", &lease.to_string()]);
    let first: u64 = w
        .line()
        .strip_prefix("ACQUIRED ")
        .expect("ACQUIRED")
        .parse()
        .unwrap();
    w.signal("-KILL");
    let c = connect(url, "killed").await;
    let t = Instant::now();
    let g = c.acquire("k", Some(Duration::from_secs(10))).await.unwrap();
    // Within one lease of observation, plus a read and a write.
    assert!(
        t.elapsed() < Duration::from_millis(lease * 3),
        "took {:?}",
        t.elapsed()
    );
    assert!(g.token() > first);
}

async fn holder_paused(url: &str) {
    let lease = 500u64;
    let mut w = Worker::spawn(&["hold", url, "paused", "k", &lease.to_string()]);
    let first: u64 = w
        .line()
        .strip_prefix("ACQUIRED ")
        .expect("ACQUIRED")
        .parse()
        .unwrap();
    w.signal("-STOP");
    let c = connect(url, "paused").await;
    let g = c.acquire("k", Some(Duration::from_secs(10))).await.unwrap();
    assert!(g.token() > first);
    g.put(fencelock::Bytes::from_static(b"new holder"))
        .await
        .unwrap();
    w.signal("-CONT");
    w.send("write");
    assert_eq!(w.line(), format!("PUT {}", ErrorKind::Expired));
    assert_eq!(w.line(), "RELEASED false");
    assert_eq!(w.line(), "LOST");
    assert!(g.release(None).await.unwrap());
    let state = c.get("k").await.unwrap().state.unwrap();
    assert_eq!(&state[..], b"new holder");
}

/// Three processes append their token to one log under the lock while one of them is paused
/// mid-hold for several leases; the log must be strictly increasing and contain exactly the
/// writes that were acknowledged.
async fn history_under_pauses(url: &str) {
    let (iterations, lease, hold) = (15, 300u64, 15u64);
    let mut workers: Vec<Worker> = (0..3)
        .map(|_| {
            Worker::spawn(&[
                "increment",
                url,
                "history",
                "log",
                &iterations.to_string(),
                &lease.to_string(),
                &hold.to_string(),
            ])
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    workers[0].signal("-STOP");
    std::thread::sleep(Duration::from_millis(lease * 3));
    workers[0].signal("-CONT");
    // The workers report only their releases, so the history holds those (timed when read):
    // the checks that need the store's order alone apply: entries strictly increasing, every
    // acknowledged write present, nothing refused or unwritten present.
    let mut history = History::default();
    for (p, w) in workers.iter_mut().enumerate() {
        for _ in 0..iterations {
            let l = w.line();
            let (outcome, t) = match l.split_once(' ') {
                Some(("OK", t)) => (Outcome::Ok, t),
                Some(("REFUSED", t)) => (Outcome::Refused, t),
                Some(("UNKNOWN", t)) => (Outcome::Unknown, t),
                _ => panic!("unexpected worker output {l:?}"),
            };
            let token: u64 = t.parse().unwrap();
            let now = Instant::now();
            history.push(Event {
                process: p,
                op: Op::Release,
                token: Some(token),
                entry: Some(format!("{token}.1")),
                start: now,
                end: now,
                outcome,
                lease: Duration::from_millis(lease),
                renews: false,
            });
        }
        assert!(w.child.wait().unwrap().success());
    }
    assert_eq!(history.len(), 3 * iterations);
    let c = connect(url, "history").await;
    let log = String::from_utf8(c.get("log").await.unwrap().state.unwrap().to_vec()).unwrap();
    let violations = history.check(&log, Bounds::default());
    assert!(violations.is_empty(), "{violations:?} in {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_holder_killed_next_waiter_acquires_within_a_lease() {
    let srv = NatsServer::start();
    holder_killed(&srv.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holder_killed_next_waiter_acquires_within_a_lease() {
    let srv = RedisServer::start();
    holder_killed(&srv.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_holder_paused_past_its_lease_has_its_write_refused_and_is_told() {
    let srv = NatsServer::start();
    holder_paused(&srv.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holder_paused_past_its_lease_has_its_write_refused_and_is_told() {
    let srv = RedisServer::start();
    holder_paused(&srv.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_history_stays_fenced_when_a_holder_is_paused() {
    let srv = NatsServer::start();
    history_under_pauses(&srv.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_history_stays_fenced_when_a_holder_is_paused() {
    let srv = RedisServer::start();
    history_under_pauses(&srv.url()).await;
}
