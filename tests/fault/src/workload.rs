//! The operations a scenario's clients run while faults are injected, each recorded into a
//! [`History`], and the summary row every scenario prints.

use crate::history::{append, Bounds, Event, History, Op, Outcome, Violation};
use fencelock::{Bytes, Client, ClientBuilder, Error, ErrorKind, LockOptions};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one client process of a scenario does, in turn, until the scenario's deadline.
#[derive(Clone, Debug)]
pub struct Mix {
    /// The operations, cycled through.
    pub ops: Vec<Op>,
    /// The lease of every lock taken.
    pub lease: Duration,
    /// How long an acquire (or wait) may wait.
    pub acquire_timeout: Duration,
    /// How long a holder keeps the lock between its writes.
    pub hold: Duration,
}

impl Mix {
    /// Acquire/put/release, with_lock, wait and campaign in turn.
    pub fn all(lease: Duration) -> Mix {
        Mix {
            ops: vec![
                Op::Acquire,
                Op::WithLock,
                Op::Acquire,
                Op::Wait,
                Op::Campaign,
            ],
            lease,
            acquire_timeout: Duration::from_secs(8),
            hold: Duration::from_millis(30),
        }
    }
}

/// The history shared by a scenario's processes.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<History>>);

impl Recorder {
    /// Records one event.
    pub fn record(&self, e: Event) {
        self.0.lock().unwrap().push(e);
    }

    /// Notes an instant the key is known free (e.g. its holder was killed: kill + lease).
    pub fn free_at(&self, at: Instant) {
        self.0.lock().unwrap().free_at.push(at);
    }

    /// Notes a store reset between `from` and `to`: writes started before it may be lost by
    /// design.
    pub fn reset(&self, from: Instant, to: Instant) {
        self.0.lock().unwrap().reset = Some((from, to));
    }

    /// A copy of the history so far.
    pub fn history(&self) -> History {
        self.0.lock().unwrap().clone()
    }
}

/// How an error counts: the store said no, or nobody knows.
fn classify(e: &Error) -> Outcome {
    match e.kind() {
        ErrorKind::Timeout | ErrorKind::Held | ErrorKind::Expired | ErrorKind::NotHeld => {
            Outcome::Refused
        }
        _ => Outcome::Unknown,
    }
}

struct Ctx<'a> {
    rec: &'a Recorder,
    process: usize,
    lease: Duration,
}

impl Ctx<'_> {
    async fn timed<T, F: Future<Output = T>>(&self, f: F) -> (T, Instant, Instant) {
        let start = Instant::now();
        let out = f.await;
        (out, start, Instant::now())
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        op: Op,
        token: Option<u64>,
        entry: Option<String>,
        start: Instant,
        end: Instant,
        outcome: Outcome,
        renews: bool,
    ) {
        self.rec.record(Event {
            process: self.process,
            op,
            token,
            entry,
            start,
            end,
            outcome,
            lease: self.lease,
            renews,
        });
    }
}

/// Runs `mix` on `key` from one client until `until`; every operation lands in `rec`.
pub async fn run_process(
    client: Client,
    process: usize,
    key: String,
    mix: Mix,
    until: Instant,
    rec: Recorder,
) {
    let cx = Ctx {
        rec: &rec,
        process,
        lease: mix.lease,
    };
    let opts = LockOptions::timeout(mix.acquire_timeout)
        .with_lease(mix.lease)
        .with_renew(false);
    let mut i = 0usize;
    while Instant::now() < until {
        let op = mix.ops[i % mix.ops.len()];
        i += 1;
        match op {
            Op::Acquire => {
                let (got, s, e) = cx.timed(client.acquire_with(key.as_str(), &opts)).await;
                let guard = match got {
                    Ok(g) => {
                        cx.record(Op::Acquire, Some(g.token()), None, s, e, Outcome::Ok, false);
                        g
                    }
                    Err(err) => {
                        cx.record(Op::Acquire, None, None, s, e, classify(&err), false);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let t = guard.token();
                let base = guard.initial_state().cloned();
                tokio::time::sleep(mix.hold).await;
                let first = append(base.as_deref(), &format!("{t}.1-p{process}i{i}"));
                let (put, s, e) = cx.timed(guard.put(Bytes::from(first.clone()))).await;
                let put_ok = put.is_ok();
                let outcome = put.map_or_else(|e| classify(&e), |_| Outcome::Ok);
                cx.record(
                    Op::Put,
                    Some(t),
                    Some(format!("{t}.1-p{process}i{i}")),
                    s,
                    e,
                    outcome,
                    false,
                );
                tokio::time::sleep(mix.hold).await;
                // After a refused or unanswered put, the release appends to the state the
                // lock was acquired with, so it does not rely on a write that may be missing.
                let prior = if put_ok {
                    Some(Bytes::from(first))
                } else {
                    base.clone()
                };
                let second = append(prior.as_deref(), &format!("{t}.2-p{process}i{i}"));
                let (rel, s, e) = cx.timed(guard.release(Some(Bytes::from(second)))).await;
                let outcome = match rel {
                    Ok(true) => Outcome::Ok,
                    Ok(false) => Outcome::Refused,
                    Err(err) => classify(&err),
                };
                cx.record(
                    Op::Release,
                    Some(t),
                    Some(format!("{t}.2-p{process}i{i}")),
                    s,
                    e,
                    outcome,
                    false,
                );
            }
            Op::WithLock => {
                let entry = format!("w{process}-{i}");
                let add = entry.clone();
                let (got, s, e) = cx
                    .timed(
                        client.with_lock_opts(key.as_str(), &opts, |state| async move {
                            Ok::<_, std::io::Error>(Some(Bytes::from(append(
                                state.as_deref(),
                                &add,
                            ))))
                        }),
                    )
                    .await;
                let outcome = got.map_or_else(|e| classify(&e), |_| Outcome::Ok);
                cx.record(Op::WithLock, None, Some(entry), s, e, outcome, false);
                pause_after(outcome).await;
            }
            Op::Wait => {
                let wait_for = mix.lease * 3 + mix.acquire_timeout;
                let (got, s, e) = cx.timed(client.wait(key.as_str(), Some(wait_for))).await;
                let outcome = got.map_or_else(|e| classify(&e), |_| Outcome::Ok);
                cx.record(Op::Wait, None, None, s, e, outcome, false);
                pause_after(outcome).await;
            }
            Op::Campaign => {
                let (got, s, e) = cx
                    .timed(client.campaign(
                        key.as_str(),
                        &format!("p{process}"),
                        Some(mix.acquire_timeout),
                    ))
                    .await;
                let leader = match got {
                    Ok(l) => {
                        cx.record(Op::Campaign, Some(l.term()), None, s, e, Outcome::Ok, true);
                        l
                    }
                    Err(err) => {
                        cx.record(Op::Campaign, None, None, s, e, classify(&err), true);
                        pause_after(Outcome::Unknown).await;
                        continue;
                    }
                };
                let t = leader.term();
                let base = leader.guard().initial_state().cloned();
                let next = append(base.as_deref(), &format!("{t}.1-p{process}i{i}"));
                let (put, s, e) = cx.timed(leader.guard().put(Bytes::from(next))).await;
                let outcome = put.map_or_else(|e| classify(&e), |_| Outcome::Ok);
                cx.record(
                    Op::Put,
                    Some(t),
                    Some(format!("{t}.1-p{process}i{i}")),
                    s,
                    e,
                    outcome,
                    true,
                );
                tokio::time::sleep(mix.hold).await;
                let (res, s, e) = cx.timed(leader.resign()).await;
                let outcome = match res {
                    Ok(true) => Outcome::Ok,
                    Ok(false) => Outcome::Refused,
                    Err(err) => classify(&err),
                };
                cx.record(Op::Release, Some(t), None, s, e, outcome, true);
            }
            Op::Put | Op::Release => unreachable!("part of Acquire"),
        }
    }
    client.close().await;
}

/// After an operation without an answer, a short pause, as an application's retry would take,
/// so that a process does not spin against a store that is down.
async fn pause_after(outcome: Outcome) {
    if outcome == Outcome::Unknown {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads the key's final state (a comma-separated log), retrying while the store recovers.
pub async fn final_log(client: &Client, key: &str) -> String {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        match client.get(key).await {
            Ok(info) => {
                return info
                    .state
                    .map(|s| String::from_utf8_lossy(&s).into_owned())
                    .unwrap_or_default()
            }
            Err(e) if Instant::now() < until => {
                eprintln!("reading the final state: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => panic!("reading the final state of {key}: {e}"),
        }
    }
}

/// A scenario's result: checks the history against the final log and prints the summary row
/// `SCENARIO | name | operations | faults injected | violations`.
pub fn report(
    name: &str,
    history: &History,
    log: &str,
    faults: usize,
    bounds: Bounds,
) -> Vec<Violation> {
    report_accepting(name, history, log, faults, bounds, &[])
}

/// [`report`] for a scenario where the backend documents that `accepted` properties do not
/// hold: those violations are shown and counted apart, and only the others are returned.
pub fn report_accepting(
    name: &str,
    history: &History,
    log: &str,
    faults: usize,
    bounds: Bounds,
    accepted: &[&str],
) -> Vec<Violation> {
    let all = history.check(log, bounds);
    let (waived, v): (Vec<Violation>, Vec<Violation>) = all
        .into_iter()
        .partition(|x| accepted.contains(&x.property));
    print_row(name, history, faults, v.len(), &waived, accepted);
    for x in v.iter().take(20) {
        println!("  violation: {x}");
    }
    if v.len() > 20 {
        println!("  … and {} more", v.len() - 20);
    }
    if !v.is_empty() {
        let path = std::env::temp_dir().join(format!(
            "fencelock-fault-{}.txt",
            name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ));
        match std::fs::write(&path, timeline(history, log)) {
            Ok(()) => println!("  history: {}", path.display()),
            Err(e) => println!("  history not written to {}: {e}", path.display()),
        }
    }
    v
}

/// Connects a client of namespace `ns` (an R`replicas` file bucket on NATS), retrying for a
/// while: a scenario may connect while a server restarts.
pub async fn connect(url: &str, ns: &str, lease: Duration, replicas: Option<usize>) -> Client {
    connect_with(url, ns, lease, |b| match replicas {
        Some(r) => b.replication(r).storage(fencelock::Storage::File),
        None => b,
    })
    .await
}

/// [`connect`] with the builder adjusted by `configure` (storage, replication, …).
pub async fn connect_with(
    url: &str,
    ns: &str,
    lease: Duration,
    configure: impl Fn(ClientBuilder) -> ClientBuilder,
) -> Client {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let b = Client::builder(url)
            .namespace(ns)
            .lease(lease)
            .connect_timeout(Duration::from_secs(5));
        match configure(b).connect().await {
            Ok(c) => return c,
            Err(e) if Instant::now() < until => {
                eprintln!("connecting to {url}: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => panic!("connecting to {url}: {e}"),
        }
    }
}

/// Starts one process per client, each running `mix` on `key` until `until`.
pub fn start_processes(
    clients: Vec<Client>,
    key: &str,
    mix: &Mix,
    until: Instant,
    rec: &Recorder,
) -> Vec<tokio::task::JoinHandle<()>> {
    clients
        .into_iter()
        .enumerate()
        .map(|(p, c)| {
            tokio::spawn(run_process(
                c,
                p,
                key.to_owned(),
                mix.clone(),
                until,
                rec.clone(),
            ))
        })
        .collect()
}

/// Waits for the processes, giving up on any still running `grace` after `until` (an
/// operation stuck past every timeout is itself reported as a failure).
pub async fn join_processes(
    handles: Vec<tokio::task::JoinHandle<()>>,
    until: Instant,
    grace: Duration,
) {
    let deadline = tokio::time::Instant::from_std(until + grace);
    for h in handles {
        let abort = h.abort_handle();
        if tokio::time::timeout_at(deadline, h).await.is_err() {
            abort.abort();
            panic!("a client process was still running {grace:?} after the scenario's end");
        }
    }
}

/// Prints the summary row (and the waived violations, one a line).
pub fn print_row(
    name: &str,
    history: &History,
    faults: usize,
    violations: usize,
    waived: &[Violation],
    accepted: &[&str],
) {
    let ok = history
        .events
        .iter()
        .filter(|e| e.outcome == Outcome::Ok)
        .count();
    let waived_note = if waived.is_empty() {
        String::new()
    } else {
        format!(" (+{} documented: {})", waived.len(), accepted.join(", "))
    };
    println!(
        "SCENARIO | {name} | {} ops ({ok} ok) | {faults} | {violations}{waived_note}",
        history.len(),
    );
    for x in waived {
        println!("  documented, not a violation: {x}");
    }
}

/// The history as text, one operation a line in start order with milliseconds from the first,
/// then the final state: what a bug report needs to replay a violation.
pub fn timeline(history: &History, log: &str) -> String {
    let mut events: Vec<&Event> = history.events.iter().collect();
    events.sort_by_key(|e| e.start);
    let Some(origin) = events.first().map(|e| e.start) else {
        return format!("final state: {log}\n");
    };
    let ms = |t: Instant| t.saturating_duration_since(origin).as_millis();
    let mut out = String::new();
    if let Some((from, to)) = history.reset {
        out.push_str(&format!(
            "store reset between {} and {} ms\n",
            ms(from),
            ms(to)
        ));
    }
    for e in events {
        out.push_str(&format!(
            "{:>7}..{:>7} ms  p{} {:?} token={:?} entry={:?} {:?}\n",
            ms(e.start),
            ms(e.end),
            e.process,
            e.op,
            e.token,
            e.entry,
            e.outcome
        ));
    }
    out.push_str(&format!("final state: {log}\n"));
    out
}
