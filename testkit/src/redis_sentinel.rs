//! A Sentinel-managed Redis group: a master, one replica and one sentinel (quorum 1), all real
//! `redis-server` processes on free loopback ports.

use crate::redis::{cli, free_port, ping, redis_server_binary, wait_until, RedisServer};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The master name the sentinel monitors.
pub const MASTER_NAME: &str = "fencelock-master";

pub struct RedisSentinel {
    /// The node that was master at start (a replica after [`RedisSentinel::failover`]).
    pub master: RedisServer,
    /// The node that was replica at start.
    pub replica: RedisServer,
    /// The sentinel's port on 127.0.0.1.
    pub sentinel_port: u16,
    sentinel: Option<Child>,
    _dir: tempfile::TempDir,
}

impl RedisSentinel {
    /// Starts the master, the replica (waiting for its initial sync) and the sentinel (waiting
    /// until it knows the replica, so that a failover can promote it).
    pub fn start() -> RedisSentinel {
        let master = RedisServer::start();
        let replica =
            RedisServer::start_with(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
        wait_until(20, "the replica to sync", || {
            let info = cli(replica.port, &["INFO", "replication"])?;
            info.contains("master_link_status:up")
                .then_some(())
                .ok_or(info)
        });
        let dir = tempfile::tempdir().expect("temp dir for the sentinel");
        let conf = dir.path().join("sentinel.conf");
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            std::fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\ndir {dir}\n\
                     sentinel monitor {MASTER_NAME} 127.0.0.1 {master} 1\n\
                     sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
                     sentinel failover-timeout {MASTER_NAME} 10000\n\
                     sentinel parallel-syncs {MASTER_NAME} 1\n",
                    dir = dir.path().display(),
                    master = master.port
                ),
            )
            .expect("writing sentinel.conf");
            let mut child = Command::new(redis_server_binary())
                .arg(&conf)
                .arg("--sentinel")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server is needed (apt-get install redis-server)");
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until && !ping(port) {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("sentinel exited at start ({status})");
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if !ping(port) {
                let _ = child.kill();
                let _ = child.wait();
                last = format!("sentinel did not answer on port {port}: {last}");
                continue;
            }
            let s = RedisSentinel {
                master,
                replica,
                sentinel_port: port,
                sentinel: Some(child),
                _dir: dir,
            };
            let replica_port = s.replica.port.to_string();
            wait_until(20, "the sentinel to see the replica", || {
                let r = cli(port, &["SENTINEL", "REPLICAS", MASTER_NAME])?;
                (r.contains(&replica_port) && !r.contains("s_down"))
                    .then_some(())
                    .ok_or(r)
            });
            return s;
        }
        panic!("{last}")
    }

    /// `redis+sentinel://127.0.0.1:<sentinel port>/<master name>`.
    pub fn url(&self) -> String {
        format!(
            "redis+sentinel://127.0.0.1:{}/{MASTER_NAME}",
            self.sentinel_port
        )
    }

    /// The port of the node the sentinel currently names master.
    pub fn master_port(&self) -> u16 {
        let out = cli(
            self.sentinel_port,
            &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME],
        )
        .expect("SENTINEL GET-MASTER-ADDR-BY-NAME");
        out.lines()
            .nth(1)
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no master address in {out:?}"))
    }

    /// Waits until the current master's writes reached its replica (`WAIT 1`).
    pub fn wait_replicated(&self) {
        let port = self.master_port();
        wait_until(10, "the replica to acknowledge", || {
            let n = cli(port, &["WAIT", "1", "1000"])?;
            (n.trim() == "1").then_some(()).ok_or(n)
        });
    }

    /// `SENTINEL FAILOVER`, then waits until the other node is master and the sentinel names
    /// it. Returns the new master's port.
    pub fn failover(&self) -> u16 {
        let old = self.master_port();
        cli(self.sentinel_port, &["SENTINEL", "FAILOVER", MASTER_NAME]).expect("SENTINEL FAILOVER");
        wait_until(30, "the failover to complete", || {
            let now = self.master_port();
            if now == old {
                return Err(format!("the sentinel still names {old}"));
            }
            let role = cli(now, &["ROLE"])?;
            role.starts_with("master")
                .then_some(now)
                .ok_or(format!("{now} reports {role}"))
        })
    }
}

impl Drop for RedisSentinel {
    fn drop(&mut self) {
        if let Some(mut c) = self.sentinel.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
