//! A Sentinel-managed Redis group: a master, one replica and one sentinel (quorum 1), all real
//! `redis-server` processes on free loopback ports; optionally with a [`FaultProxy`] in front
//! of each of the three, which every link then uses (clients, replication, the sentinel's
//! checks), so a test can cut a node off.

use crate::fault_proxy::FaultProxy;
use crate::redis::{cli_tls_args, cli_with, free_port, redis_server_binary, wait_until};
use crate::redis::{RedisServer, RedisTls};
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
    dir: tempfile::TempDir,
    /// redis-cli's options (TLS).
    cli_options: Vec<String>,
    /// With [`RedisSentinel::start_proxied`]: the proxies in front of the node that was master
    /// at start, the replica and the sentinel. The nodes announce their proxy's port, so the
    /// sentinel names proxy ports as master and replica addresses.
    pub links: Option<SentinelLinks>,
}

/// The proxies of a proxied [`RedisSentinel`] group.
pub struct SentinelLinks {
    /// In front of the node that was master at start.
    pub master: FaultProxy,
    /// In front of the node that was replica at start.
    pub replica: FaultProxy,
    /// In front of the sentinel.
    pub sentinel: FaultProxy,
}

impl RedisSentinel {
    /// Starts the master, the replica (waiting for its initial sync) and the sentinel (waiting
    /// until it knows the replica, so that a failover can promote it).
    pub fn start() -> RedisSentinel {
        Self::start_inner(None, false)
    }

    /// All three speak only TLS, also among themselves (`tls-replication yes`).
    pub fn start_tls(tls: &RedisTls<'_>) -> RedisSentinel {
        Self::start_inner(Some(tls), false)
    }

    /// Like [`RedisSentinel::start`], with every link through a proxy ([`RedisSentinel::links`]):
    /// the replica replicates from the master's proxy, the nodes announce their proxies' ports
    /// (`replica-announce-port`), the sentinel monitors the master's proxy, and [`url`] names
    /// the sentinel's proxy. [`master_port`] and [`failover`] answer proxy ports.
    ///
    /// [`url`]: RedisSentinel::url
    /// [`master_port`]: RedisSentinel::master_port
    /// [`failover`]: RedisSentinel::failover
    pub fn start_proxied() -> RedisSentinel {
        Self::start_inner(None, true)
    }

    fn start_inner(tls: Option<&RedisTls<'_>>, proxied: bool) -> RedisSentinel {
        let path = |p: &std::path::Path| p.to_str().expect("UTF-8 path").to_owned();
        let (cli_options, server_tls) = match tls {
            None => (Vec::new(), Vec::new()),
            Some(t) => (
                cli_tls_args(t),
                vec![
                    ("tls-cert-file", path(t.cert)),
                    ("tls-key-file", path(t.key)),
                    ("tls-ca-cert-file", path(t.ca)),
                    ("tls-auth-clients", "no".to_owned()),
                    ("tls-replication", "yes".to_owned()),
                ],
            ),
        };
        let cli = |port: u16, args: &[&str]| cli_with(port, &cli_options, args);
        let node = |extra: &[&str]| {
            let mut args: Vec<String> = server_tls
                .iter()
                .flat_map(|(k, v)| [format!("--{k}"), v.clone()])
                .collect();
            args.extend(extra.iter().map(|s| s.to_string()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            RedisServer::start_inner(&args, tls.is_some())
        };
        let master = node(&[]);
        let (replica, node_links) = if proxied {
            // Each node announces its proxy before it replicates, so the master lists the
            // replica (and the sentinel learns it) by its proxy's port.
            let announce = |port: u16, proxy: &FaultProxy| {
                cli(port, &["CONFIG", "SET", "replica-announce-ip", "127.0.0.1"])
                    .and_then(|_| {
                        let p = proxy.port.to_string();
                        cli(port, &["CONFIG", "SET", "replica-announce-port", &p])
                    })
                    .expect("CONFIG SET replica-announce-port");
            };
            let master_link = FaultProxy::to_port(master.port);
            announce(master.port, &master_link);
            let replica = node(&[]);
            let replica_link = FaultProxy::to_port(replica.port);
            announce(replica.port, &replica_link);
            cli(
                replica.port,
                &["REPLICAOF", "127.0.0.1", &master_link.port.to_string()],
            )
            .expect("REPLICAOF the master's proxy");
            (replica, Some((master_link, replica_link)))
        } else {
            let replica = node(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
            (replica, None)
        };
        let monitored = node_links.as_ref().map_or(master.port, |(m, _)| m.port);
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
            let ports = if tls.is_some() {
                format!("port 0\ntls-port {port}\n")
            } else {
                format!("port {port}\n")
            };
            let tls_conf: String = server_tls
                .iter()
                .map(|(k, v)| format!("{k} {v}\n"))
                .collect();
            std::fs::write(
                &conf,
                format!(
                    "{ports}{tls_conf}bind 127.0.0.1\ndir {dir}\nlogfile {dir}/{SENTINEL_LOG}\n\
                     sentinel monitor {MASTER_NAME} 127.0.0.1 {monitored} 1\n\
                     sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
                     sentinel failover-timeout {MASTER_NAME} 10000\n\
                     sentinel parallel-syncs {MASTER_NAME} 1\n",
                    dir = dir.path().display(),
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
            let ping = || cli(port, &["PING"]).is_ok_and(|r| r.starts_with("PONG"));
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until && !ping() {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("sentinel exited at start ({status})");
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if !ping() {
                let _ = child.kill();
                let _ = child.wait();
                last = format!("sentinel did not answer on port {port}: {last}");
                continue;
            }
            let replica_port = node_links
                .as_ref()
                .map_or(replica.port, |(_, r)| r.port)
                .to_string();
            let links = node_links.map(|(master, replica)| SentinelLinks {
                master,
                replica,
                sentinel: FaultProxy::to_port(port),
            });
            let s = RedisSentinel {
                master,
                replica,
                sentinel_port: port,
                sentinel: Some(child),
                dir,
                cli_options: cli_options.clone(),
                links,
            };
            wait_until(20, "the sentinel to see the replica", || {
                let r = s.cli(port, &["SENTINEL", "REPLICAS", MASTER_NAME])?;
                // A replica whose link is still "disconnected" cannot be promoted yet: a
                // failover asked for now would be refused with NOGOODSLAVE.
                let ready = !r.contains("s_down") && !r.contains("disconnected");
                (r.contains(&replica_port) && ready).then_some(()).ok_or(r)
            });
            return s;
        }
        panic!("{last}")
    }

    /// Runs redis-cli against a node or the sentinel (over TLS for a TLS group).
    pub fn cli(&self, port: u16, args: &[&str]) -> Result<String, String> {
        cli_with(port, &self.cli_options, args)
    }

    /// `redis+sentinel://127.0.0.1:<sentinel port>/<master name>` (`rediss+sentinel` for TLS).
    pub fn url(&self) -> String {
        let scheme = if self.cli_options.is_empty() {
            "redis+sentinel"
        } else {
            "rediss+sentinel"
        };
        let port = self
            .links
            .as_ref()
            .map_or(self.sentinel_port, |l| l.sentinel.port);
        format!("{scheme}://127.0.0.1:{port}/{MASTER_NAME}")
    }

    /// The port of the node the sentinel currently names master.
    pub fn master_port(&self) -> u16 {
        let out = self
            .cli(
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
            let n = self.cli(port, &["WAIT", "1", "1000"])?;
            (n.trim() == "1").then_some(()).ok_or(n)
        });
    }

    /// `SENTINEL FAILOVER`, then waits until the other node is master and the sentinel names
    /// it. Returns the new master's port.
    ///
    /// A sentinel may not run the failover it was asked for: it answers `NOGOODSLAVE` while its
    /// view of the replica is stale, a failover it started aborts after `failover-timeout`, and
    /// on a loaded machine a stalled timer puts it in TILT mode, where it acts on nothing for
    /// 30 s. So the request is repeated until the switch shows, and a timeout reports the
    /// sentinel's replies and the end of its log.
    pub fn failover(&self) -> u16 {
        let old = self.master_port();
        let mut replies: Vec<String> = Vec::new();
        let mut asked: Option<Instant> = None;
        let ask_again = Duration::from_secs(2);
        wait_until(90, "the failover to complete", || {
            let now = self.master_port();
            if now != old {
                let role = self.cli(now, &["ROLE"])?;
                return role
                    .starts_with("master")
                    .then_some(now)
                    .ok_or(format!("{now} reports {role}"));
            }
            if asked.is_none_or(|t| t.elapsed() >= ask_again) {
                let reply = self
                    .cli(self.sentinel_port, &["SENTINEL", "FAILOVER", MASTER_NAME])
                    .unwrap_or_else(|e| e);
                let reply = reply.trim().to_owned();
                if replies.last() != Some(&reply) {
                    replies.push(reply);
                }
                asked = Some(Instant::now());
            }
            Err(format!(
                "the sentinel still names {old}; it answered SENTINEL FAILOVER with {replies:?}; \
                 the end of its log:\n{}",
                self.sentinel_log_tail(30)
            ))
        })
    }

    /// The last `lines` lines of the sentinel's log file (what it decided and why).
    pub fn sentinel_log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.dir.path().join(SENTINEL_LOG)).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// The sentinel's log file, in its directory.
const SENTINEL_LOG: &str = "sentinel.log";

impl Drop for RedisSentinel {
    fn drop(&mut self) {
        if let Some(mut c) = self.sentinel.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxied_group_names_proxy_ports_and_fails_over_through_them() {
        let s = RedisSentinel::start_proxied();
        let links = s.links.as_ref().expect("links");
        assert!(s.url().contains(&links.sentinel.port.to_string()));
        assert_eq!(s.master_port(), links.master.port);
        assert_eq!(s.failover(), links.replica.port);
        // The old master follows the new one through the new one's proxy.
        wait_until(20, "the old master to replicate", || {
            let info = s.cli(s.master.port, &["INFO", "replication"])?;
            (info.contains(&format!("master_port:{}", links.replica.port))
                && info.contains("master_link_status:up"))
            .then_some(())
            .ok_or(info)
        });
    }

    /// A failover asked for while the sentinel sees no promotable replica is refused
    /// (NOGOODSLAVE, an answer redis-cli prints without "ERR"); `failover` asks again until the
    /// replica is back instead of waiting for a switch that was never started.
    #[test]
    fn a_failover_refused_for_want_of_a_replica_goes_through_once_the_replica_is_back() {
        let s = RedisSentinel::start_proxied();
        let links = s.links.as_ref().expect("links");
        links.replica.partition();
        let port = links.replica.port.to_string();
        wait_until(30, "the sentinel to see the replica down", || {
            let r = s.cli(s.sentinel_port, &["SENTINEL", "REPLICAS", MASTER_NAME])?;
            (r.contains(&port) && (r.contains("s_down") || r.contains("disconnected")))
                .then_some(())
                .ok_or(r)
        });
        let refused = s.cli(s.sentinel_port, &["SENTINEL", "FAILOVER", MASTER_NAME]);
        assert!(
            refused.as_ref().is_ok_and(|r| r.starts_with("NOGOODSLAVE")),
            "{refused:?}"
        );
        links.replica.partition_then_heal(Duration::from_secs(2));
        assert_eq!(s.failover(), links.replica.port);
    }
}
