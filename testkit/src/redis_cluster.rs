//! A Redis Cluster of real `redis-server` processes on free loopback ports.

use crate::redis::{
    cli_tls_args, cli_with, free_port, redis_cli_binary, server_tls_args, wait_until,
};
use crate::redis::{RedisServer, RedisTls};
use std::process::{Command, Stdio};

/// Masters with `--cluster-enabled yes` and all 16384 slots assigned, no replicas.
pub struct RedisCluster {
    /// The masters, in the order of their slot ranges.
    pub nodes: Vec<RedisServer>,
    /// Their cluster bus ports.
    bus_ports: Vec<u16>,
    /// Replicas added by [`RedisCluster::add_replica`].
    pub replicas: Vec<RedisServer>,
    /// redis-cli's TLS options, and the server's, for a TLS cluster.
    tls: Option<(Vec<String>, Vec<String>)>,
}

fn node_args(bus: &str) -> [&str; 8] {
    [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        "2000",
        "--cluster-port",
        bus,
    ]
}

impl RedisCluster {
    /// Starts three masters and creates the cluster (`redis-cli --cluster create`).
    pub fn start() -> RedisCluster {
        Self::start_with(3)
    }

    /// Starts `masters` (at least 3, as `redis-cli --cluster create` requires) masters.
    pub fn start_with(masters: usize) -> RedisCluster {
        Self::start_inner(masters, None)
    }

    /// Three masters that accept only TLS, also between themselves (`--tls-cluster yes`).
    pub fn start_tls(tls: &RedisTls<'_>) -> RedisCluster {
        Self::start_inner(3, Some((cli_tls_args(tls), server_tls_args(tls))))
    }

    fn start_inner(masters: usize, tls: Option<(Vec<String>, Vec<String>)>) -> RedisCluster {
        let mut c = RedisCluster {
            nodes: Vec::new(),
            bus_ports: Vec::new(),
            replicas: Vec::new(),
            tls,
        };
        for _ in 0..masters {
            let (node, bus) = c.start_node();
            c.nodes.push(node);
            c.bus_ports.push(bus);
        }
        let nodes = &c.nodes;
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new(redis_cli_binary())
            .args(c.cli_options())
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli is needed for the cluster tests (apt-get install redis-tools)");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for n in nodes {
            wait_until(20, "the cluster to become ready", || {
                let info = c.cli(n.port, &["CLUSTER", "INFO"])?;
                let ok = info.contains("cluster_state:ok")
                    && info.contains(&format!("cluster_known_nodes:{masters}"))
                    && info.contains("cluster_slots_ok:16384");
                ok.then_some(()).ok_or(info)
            });
        }
        c
    }

    /// Starts a cluster node and returns it with its bus port. The bus port defaults to port +
    /// 10000, which may be taken or out of range, so each node gets a free one of its own; a
    /// port taken between asking and binding (another test's connection) fails the start, so a
    /// fresh pair of ports is tried then.
    fn start_node(&self) -> (RedisServer, u16) {
        let mut last = String::new();
        for _ in 0..5 {
            let bus = free_port();
            let bus_arg = bus.to_string();
            let mut args: Vec<&str> = node_args(&bus_arg).to_vec();
            let tls = match &self.tls {
                None => false,
                Some((_, server)) => {
                    args.extend(server.iter().map(String::as_str));
                    args.extend(["--tls-cluster", "yes", "--tls-replication", "yes"]);
                    true
                }
            };
            match RedisServer::try_start_inner(&args, tls) {
                Ok(node) => return (node, bus),
                Err(e) => last = e,
            }
        }
        panic!("{last}")
    }

    fn cli_options(&self) -> &[String] {
        self.tls.as_ref().map_or(&[], |(cli, _)| cli.as_slice())
    }

    /// Runs redis-cli against one node (over TLS for a TLS cluster).
    pub fn cli(&self, port: u16, args: &[&str]) -> Result<String, String> {
        cli_with(port, self.cli_options(), args)
    }

    /// Adds a replica of master `i` and waits until it is in sync.
    pub fn add_replica(&mut self, i: usize) -> &RedisServer {
        let master = self.nodes[i].port;
        let (replica, _) = self.start_node();
        let id = self
            .cli(master, &["CLUSTER", "MYID"])
            .expect("CLUSTER MYID");
        let id = id.trim();
        let (mport, mbus) = (master.to_string(), self.bus_ports[i].to_string());
        self.cli(
            replica.port,
            &["CLUSTER", "MEET", "127.0.0.1", &mport, &mbus],
        )
        .expect("CLUSTER MEET");
        wait_until(20, "the new node to learn the master", || {
            self.cli(replica.port, &["CLUSTER", "REPLICATE", id])
        });
        wait_until(20, "the replica to sync", || {
            let info = self.cli(replica.port, &["INFO", "replication"])?;
            info.contains("master_link_status:up")
                .then_some(())
                .ok_or(info)
        });
        let n = self.nodes.len() + self.replicas.len() + 1;
        for port in self.nodes.iter().map(|n| n.port).chain([replica.port]) {
            wait_until(20, "every node to know the replica", || {
                let info = self.cli(port, &["CLUSTER", "INFO"])?;
                info.contains(&format!("cluster_known_nodes:{n}"))
                    .then_some(())
                    .ok_or(info)
            });
        }
        self.replicas.push(replica);
        self.replicas.last().expect("just pushed")
    }

    /// `redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,…` (every node as a seed).
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let scheme = if self.tls.is_some() {
            "rediss+cluster"
        } else {
            "redis+cluster"
        };
        format!("{scheme}://{}", hosts.join(","))
    }

    /// The port of the node serving `key`'s hash slot (from `CLUSTER KEYSLOT` and
    /// `CLUSTER NODES`).
    pub fn node_of(&self, key: &str) -> u16 {
        let port = self.nodes[0].port;
        let slot: u16 = self
            .cli(port, &["CLUSTER", "KEYSLOT", key])
            .and_then(|s| s.trim().parse().map_err(|e| format!("{s:?}: {e}")))
            .expect("CLUSTER KEYSLOT");
        let nodes = self
            .cli(port, &["CLUSTER", "NODES"])
            .expect("CLUSTER NODES");
        // `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges…>`
        for line in nodes.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let Some(addr) = fields.get(1) else { continue };
            let node_port = addr
                .split('@')
                .next()
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| p.parse::<u16>().ok());
            for range in fields.iter().skip(8) {
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                if let (Ok(a), Ok(b), Some(p)) = (a.parse::<u16>(), b.parse::<u16>(), node_port) {
                    if (a..=b).contains(&slot) {
                        return p;
                    }
                }
            }
        }
        panic!("no node serves slot {slot} of {key:?}: {nodes}")
    }
}
