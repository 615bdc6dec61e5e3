//! The `fencelock` binary driven as an operator or a shell script would, against real servers.

use fencelock_testkit::{NatsServer, RedisCluster, RedisServer};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A backend the commands point at through FENCELOCK_URL.
struct Backend {
    url: String,
    _nats: Option<NatsServer>,
    _redis: Option<RedisServer>,
    _cluster: Option<RedisCluster>,
}

fn nats() -> Backend {
    let srv = NatsServer::start();
    Backend {
        url: srv.url(),
        _nats: Some(srv),
        _redis: None,
        _cluster: None,
    }
}

fn redis() -> Backend {
    let srv = RedisServer::start();
    Backend {
        url: srv.url(),
        _nats: None,
        _redis: Some(srv),
        _cluster: None,
    }
}

fn redis_cluster() -> Backend {
    let cluster = RedisCluster::start();
    Backend {
        url: cluster.url(),
        _nats: None,
        _redis: None,
        _cluster: Some(cluster),
    }
}

impl Backend {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fencelock"));
        c.args(args)
            .env("FENCELOCK_URL", &self.url)
            .env("FENCELOCK_NAMESPACE", "clitest")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("fencelock runs")
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fencelock starts")
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
    }

    /// Waits until `key` is held (by anyone) and returns its holder as JSON.
    fn wait_held(&self, key: &str) -> Value {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.json(&["get", key, "--json"]);
            if v["held"] == Value::Bool(true) {
                return v["holder"].clone();
            }
            assert!(Instant::now() < until, "{key} never became held");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn wait_output(child: Child) -> Output {
    child.wait_with_output().expect("fencelock finishes")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Each job appends `start <token> <ns>` and `end <token> <ns>` around a short sleep.
const JOB: &str = "echo start $FENCELOCK_TOKEN $(date +%s%N) >> \"$LOG\"; sleep 0.2; \
                   echo end $FENCELOCK_TOKEN $(date +%s%N) >> \"$LOG\"";

#[test]
fn two_parallel_runs_on_one_key_never_overlap() {
    let b = nats();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let workers: Vec<Child> = (0..2)
        .map(|_| {
            b.cmd(&[
                "run",
                "nightly",
                "--timeout",
                "30s",
                "--",
                "sh",
                "-c",
                &format!("for i in 1 2 3; do {JOB}; done"),
            ])
            .env("LOG", &log)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for w in workers {
        let out = wait_output(w);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    // Lines alternate start/end with the same token, tokens rise, times never interleave.
    let lines: Vec<(String, u64, u128)> = read(&log)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].to_owned(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines.len(), 12, "{lines:?}");
    let mut last_end = 0u128;
    let mut last_token = 0u64;
    for pair in lines.chunks(2) {
        let (start, end) = (&pair[0], &pair[1]);
        assert_eq!(
            (start.0.as_str(), end.0.as_str()),
            ("start", "end"),
            "{lines:?}"
        );
        assert_eq!(start.1, end.1, "one holder per start/end pair: {lines:?}");
        assert!(
            start.2 >= last_end,
            "a job started before the previous ended: {lines:?}"
        );
        last_end = end.2;
        if start.1 != last_token {
            assert!(start.1 > last_token, "tokens rise: {lines:?}");
            last_token = start.1;
        }
    }
}

/// A job that records SIGTERM, so the test sees it was stopped rather than finished.
fn stoppable(marker: &Path) -> String {
    format!(
        "trap 'echo terminated >> {m}; exit 143' TERM; echo started >> {m}; \
         sleep 30 & wait; echo finished >> {m}",
        m = marker.display()
    )
}

fn broken_run_stops_the_command_and_exits_lost(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let run = b.spawn(&[
        "run",
        "job",
        "--lease",
        "1500ms",
        "--grace",
        "2s",
        "--",
        "sh",
        "-c",
        &stoppable(&marker),
    ]);
    let holder = b.wait_held("job");
    let until = Instant::now() + Duration::from_secs(5);
    while !read(&marker).contains("started") && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = b.run(&["break", "job", "--force", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("lost the lock"), "{stdout}");
    let started = Instant::now();
    let out = wait_output(run);
    assert_eq!(out.status.code(), Some(76), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lost the lock"));
    let m = read(&marker);
    assert!(m.contains("terminated") && !m.contains("finished"), "{m}");
    // The next holder's token is higher than the broken one's.
    let out = b.run(&["run", "job", "--", "sh", "-c", "echo $FENCELOCK_TOKEN"]);
    let next: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(
        next > holder["token"].as_u64().unwrap(),
        "{next} vs {holder}"
    );
}

#[test]
fn nats_broken_run_stops_the_command_and_exits_lost() {
    broken_run_stops_the_command_and_exits_lost(nats());
}

#[test]
fn redis_broken_run_stops_the_command_and_exits_lost() {
    broken_run_stops_the_command_and_exits_lost(redis());
}

#[test]
fn break_refuses_live_leases_and_unconfirmed_force() {
    let b = nats();
    let out = b.run(&["break", "free"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not locked"));

    let run = b.spawn(&["run", "busy", "--lease", "1s", "--", "sleep", "30"]);
    b.wait_held("busy");
    // Watched for a lease: the holder renews, so it is alive.
    let out = b.run(&["break", "busy"]);
    assert_eq!(out.status.code(), Some(73), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    // Refused at once where the store's clock tells the lease left (Redis, NATS 2.11+), or
    // after watching it renew (clock-free NATS).
    assert!(
        (err.contains("renewed") || err.contains("left")) && err.contains("--force"),
        "{err}"
    );
    // --force without a terminal needs --yes.
    let out = b.run(&["break", "busy", "--force"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(b.json(&["get", "busy", "--json"])["held"], true);
    let out = b.run(&["break", "busy", "--force", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(wait_output(run).status.code(), Some(76));
}

#[test]
fn break_frees_a_lock_whose_holder_stopped_renewing() {
    let b = nats();
    // A holder that dies without releasing: SIGKILL leaves its lock behind.
    let mut run = b.spawn(&["run", "stuck", "--lease", "1s", "--", "sleep", "30"]);
    let holder = b.wait_held("stuck");
    // SAFETY: kill(2) on a child we started.
    unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGKILL) };
    let _ = run.wait();
    let out = b.run(&["break", "stuck"]);
    match out.status.code() {
        // Clock-free: watched the silent holder for a lease, then freed it.
        Some(0) => assert!(String::from_utf8_lossy(&out.stdout).contains("lapsed")),
        // The server's clock says the lease still runs: refused until it ends.
        Some(73) => {
            assert!(String::from_utf8_lossy(&out.stderr).contains("left"));
            std::thread::sleep(std::time::Duration::from_millis(1200));
            let out = b.run(&["break", "stuck"]);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        }
        _ => panic!("{}", text(&out)),
    }
    let now = b.json(&["get", "stuck", "--json"]);
    assert_eq!(now["held"], false, "{now}");
    // The next holder's token is higher than the dead holder's.
    let out = b.run(&["run", "stuck", "--", "sh", "-c", "echo $FENCELOCK_TOKEN"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let token: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a token");
    assert!(
        Some(token) > holder["token"].as_u64(),
        "{token} after {holder}"
    );
}

#[test]
fn redis_break_refuses_a_live_lease_at_once() {
    let b = redis();
    let run = b.spawn(&["run", "busy", "--lease", "5s", "--", "sleep", "30"]);
    b.wait_held("busy");
    let started = Instant::now();
    let out = b.run(&["break", "busy"]);
    assert_eq!(out.status.code(), Some(73), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("left"));
    assert!(started.elapsed() < Duration::from_secs(3));
    let held = b.json(&["get", "busy", "--json"]);
    assert!(
        held["lease_remaining_ms"].as_u64().unwrap() <= 5000,
        "{held}"
    );
    b.run(&["break", "busy", "--force", "--yes"]);
    assert_eq!(wait_output(run).status.code(), Some(76));
}

#[test]
fn ls_and_get_json_describe_holders_and_state() {
    let b = nats();
    let out = b.run(&["state", "set", "jobs/a", r#"{"done": 3}"#, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = b.spawn(&[
        "run", "jobs/b", "--label", "worker 7", "--lease", "20s", "--", "sleep", "30",
    ]);
    b.wait_held("jobs/b");
    b.run(&["state", "set", "other", "x"]);

    let all = b.json(&["ls", "jobs/", "--json"]);
    let rows = all.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{all}");
    assert_eq!(rows[0]["key"], "jobs/a");
    assert_eq!(rows[0]["held"], false);
    assert_eq!(rows[0]["state_bytes"], 11);
    assert_eq!(rows[1]["key"], "jobs/b");
    assert_eq!(rows[1]["holder"]["label"], "worker 7");
    assert_eq!(rows[1]["holder"]["lease_ms"], 20000);
    assert!(rows[1]["holder"]["token"].as_u64().unwrap() > 0);
    assert_eq!(rows[1]["holder"]["lock_id"].as_str().unwrap().len(), 32);

    let table = b.run(&["ls"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.starts_with("KEY"), "{table}");
    assert!(
        table.contains("worker 7") && table.contains("other"),
        "{table}"
    );

    let state = b.json(&["state", "get", "jobs/a", "--json"]);
    assert_eq!(state["done"], 3);
    let raw = b.run(&["state", "get", "other"]);
    assert_eq!(raw.stdout, b"x");
    // Bad JSON is refused before anything is written.
    let out = b.run(&["state", "set", "jobs/a", "{nope", "--json"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert_eq!(b.json(&["state", "get", "jobs/a", "--json"])["done"], 3);
    b.run(&["break", "jobs/b", "--force", "--yes"]);
    wait_output(run);
}

/// `ls` on a Redis Cluster lists the keys of every primary (SCAN walks one node at a time).
#[test]
fn ls_on_a_redis_cluster_lists_keys_of_every_primary() {
    let b = redis_cluster();
    let keys: Vec<String> = (0..20).map(|i| format!("jobs/{i:02}")).collect();
    for key in &keys {
        let out = b.run(&["state", "set", key, "x"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let rows = b.json(&["ls", "jobs/", "--json"]);
    let listed: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(listed, keys, "{rows}");
}

#[test]
fn run_exit_codes_pass_the_command_status_through_and_name_failures() {
    let b = nats();
    let out = b.run(&["run", "k", "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    let out = b.run(&["run", "k", "--", "sh", "-c", "kill -KILL $$"]);
    assert_eq!(out.status.code(), Some(128 + 9), "{}", text(&out));
    let out = b.run(&["run", "k", "--", "/nonexistent/command"]);
    assert_eq!(out.status.code(), Some(127), "{}", text(&out));
    // The lock was released after the failed start.
    assert_eq!(b.json(&["get", "k", "--json"])["held"], false);

    let run = b.spawn(&["run", "k", "--", "sleep", "30"]);
    b.wait_held("k");
    let out = b.run(&["run", "k", "--timeout", "0", "--", "true"]);
    assert_eq!(out.status.code(), Some(73), "{}", text(&out));
    let out = b.run(&["run", "k", "--timeout", "300ms", "--", "true"]);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--timeout"));
    b.run(&["break", "k", "--force", "--yes"]);
    wait_output(run);

    for bad in [
        vec!["run", "k"],
        vec!["run", "k", "--lease", "soon", "--", "true"],
        vec!["frobnicate"],
    ] {
        let out = b.run(&bad);
        assert_eq!(out.status.code(), Some(64), "{bad:?}: {}", text(&out));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_fencelock"))
        .args(["get", "k"])
        .env("FENCELOCK_URL", "nats://127.0.0.1:1")
        .env("FENCELOCK_NAMESPACE", "clitest")
        .args(["--connect-timeout", "500ms"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FENCELOCK_URL"));
}

#[test]
fn run_forwards_sigterm_to_the_command() {
    let b = nats();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let run = b.spawn(&["run", "k", "--", "sh", "-c", &stoppable(&marker)]);
    b.wait_held("k");
    let until = Instant::now() + Duration::from_secs(5);
    while !read(&marker).contains("started") && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on a child we started.
    unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGTERM) };
    let out = wait_output(run);
    assert_eq!(out.status.code(), Some(143), "{}", text(&out));
    assert!(read(&marker).contains("terminated"));
    assert_eq!(b.json(&["get", "k", "--json"])["held"], false);
}

#[test]
fn elect_runs_one_candidate_at_a_time() {
    let b = nats();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let job = "echo start $FENCELOCK_CANDIDATE $FENCELOCK_TOKEN $(date +%s%N) >> \"$LOG\"; \
               sleep 0.5; echo end $FENCELOCK_CANDIDATE $FENCELOCK_TOKEN $(date +%s%N) >> \"$LOG\"";
    let candidates: Vec<Child> = ["alpha", "beta"]
        .iter()
        .map(|name| {
            b.cmd(&[
                "elect",
                "leader",
                "--candidate",
                name,
                "--",
                "sh",
                "-c",
                job,
            ])
            .env("LOG", &log)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let leader = b.wait_held("leader");
    assert!(["alpha", "beta"].contains(&leader["label"].as_str().unwrap()));
    for c in candidates {
        let out = wait_output(c);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let lines: Vec<Vec<String>> = read(&log)
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0][0], "start");
    assert_eq!(lines[1][0], "end");
    assert_eq!(lines[0][1], lines[1][1], "one leader at a time: {lines:?}");
    assert_ne!(lines[0][1], lines[2][1], "both candidates led: {lines:?}");
    let term = |l: &Vec<String>| l[2].parse::<u64>().unwrap();
    assert!(term(&lines[2]) > term(&lines[0]), "terms rise: {lines:?}");
    assert!(lines[2][3] >= lines[1][3], "no overlap: {lines:?}");
}

#[test]
fn watch_prints_one_line_per_change() {
    let b = nats();
    let mut watch = b
        .cmd(&["watch", "w/*", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let next = || -> Value {
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a watch line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    };
    // Give the watch time to subscribe (it prints nothing for an empty namespace).
    std::thread::sleep(Duration::from_millis(500));
    let out = b.run(&["run", "w/x", "--label", "job", "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    b.run(&["run", "outside", "--", "true"]);
    let acquired = next();
    assert_eq!(acquired["event"], "acquired", "{acquired}");
    assert_eq!(acquired["key"], "w/x");
    assert_eq!(acquired["holder"]["label"], "job");
    let released = next();
    assert_eq!(released["event"], "released", "{released}");
    assert_eq!(released["token"], acquired["token"]);
    // SAFETY: kill(2) on a child we started.
    unsafe { libc::kill(watch.id() as libc::pid_t, libc::SIGINT) };
    let status = watch.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
