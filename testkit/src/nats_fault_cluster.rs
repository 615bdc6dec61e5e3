//! A three-node nats-server JetStream cluster (file storage) whose every link runs through a
//! [`FaultProxy`]: one proxy per client port and one per direction of every cluster route, so a
//! fault test can cut a client off, partition one server from the others, or kill, pause and
//! restart a server, all on loopback without root.
//!
//! Routes: node `i` solicits node `j` only through the proxy `route(i, j)`. Servers gossip the
//! route URL each advertises; here each advertises a "sink" proxy that refuses every connection,
//! so a server never learns a direct path around a partitioned proxy. Clients are told nothing
//! (`--no_advertise`): they reconnect only to the client proxies of the URL list they were given.

use crate::fault_proxy::FaultProxy;
use crate::nats::spawn;
use crate::nats_cluster::probe_r3;
use crate::nats_request::request;
use crate::redis::free_port;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const READY_WITHIN: Duration = Duration::from_secs(30);

/// One server of a [`NatsFaultCluster`].
pub struct FaultNode {
    child: Option<Child>,
    /// Its real client port (the tests' clients connect through `client` instead).
    pub port: u16,
    /// Its server name (`n1`, `n2`, `n3`), as JetStream names stream leaders and peers.
    pub name: String,
    /// The proxy in front of its client port.
    pub client: FaultProxy,
    args: Vec<String>,
    store: tempfile::TempDir,
    paused: bool,
    _sink: FaultProxy,
}

impl FaultNode {
    /// Whether its process runs (it may be paused).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Whether it is stopped with SIGSTOP.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The client URL through its proxy.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.client.port)
    }

    fn kill(&mut self) {
        if self.paused {
            self.signal("-CONT");
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn signal(&mut self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status();
            self.paused = sig == "-STOP";
        }
    }
}

/// Three nats-server processes behind fault proxies; killed on drop.
pub struct NatsFaultCluster {
    /// The nodes; each keeps its ports, proxies and store across restarts.
    pub nodes: Vec<FaultNode>,
    /// `routes[i][j]`: the proxy node `i` solicits node `j` through (`None` on the diagonal).
    routes: Vec<Vec<Option<FaultProxy>>>,
}

impl NatsFaultCluster {
    /// Starts three nodes behind proxies and waits until they can place an R3 stream (the
    /// whole cluster is started again on fresh ports up to three times, as port picks race).
    pub fn start() -> NatsFaultCluster {
        let mut last = String::new();
        for _ in 0..3 {
            match Self::try_start_once() {
                Ok(c) => return c,
                Err(e) => last = e,
            }
        }
        panic!("{last}")
    }

    fn try_start_once() -> Result<NatsFaultCluster, String> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let cluster = format!(
            "flf{}x{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let route_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let routes: Vec<Vec<Option<FaultProxy>>> = (0..3)
            .map(|i| {
                (0..3)
                    .map(|j| (i != j).then(|| FaultProxy::to_port(route_ports[j])))
                    .collect()
            })
            .collect();
        let mut nodes = Vec::new();
        for (i, route_port) in route_ports.iter().enumerate() {
            let sink = FaultProxy::to_port(*route_port);
            sink.partition();
            let peers: Vec<String> = routes[i]
                .iter()
                .flatten()
                .map(|p| format!("nats://127.0.0.1:{}", p.port))
                .collect();
            let args = vec![
                "-n".to_string(),
                format!("n{}", i + 1),
                "--cluster_name".into(),
                cluster.clone(),
                "--cluster".into(),
                format!("nats://127.0.0.1:{route_port}"),
                "--cluster_advertise".into(),
                format!("127.0.0.1:{}", sink.port),
                "--routes".into(),
                peers.join(","),
                "--no_advertise=true".into(),
            ];
            let store = tempfile::tempdir().map_err(|e| format!("temp dir for JetStream: {e}"))?;
            let (child, port, _) = spawn(store.path(), None, &args)?;
            nodes.push(FaultNode {
                child: Some(child),
                port,
                name: format!("n{}", i + 1),
                client: FaultProxy::to_port(port),
                args,
                store,
                paused: false,
                _sink: sink,
            });
        }
        let c = NatsFaultCluster { nodes, routes };
        c.wait_ready()?;
        Ok(c)
    }

    /// The client URLs through the proxies, comma-separated.
    pub fn url(&self) -> String {
        self.urls().join(",")
    }

    /// The client URLs through the proxies.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(FaultNode::url).collect()
    }

    /// The proxy node `from` reaches node `to` through.
    pub fn route(&self, from: usize, to: usize) -> &FaultProxy {
        self.routes[from][to]
            .as_ref()
            .expect("no route from a node to itself")
    }

    /// Partitions node `i` from the other two (both directions of its routes); its clients
    /// stay connected to it.
    pub fn isolate(&self, i: usize) {
        for j in (0..3).filter(|j| *j != i) {
            self.route(i, j).partition();
            self.route(j, i).partition();
        }
    }

    /// Heals every route and client proxy.
    pub fn heal_all(&self) {
        for p in self.routes.iter().flatten().flatten() {
            p.heal();
        }
        for n in &self.nodes {
            n.client.heal();
        }
    }

    /// Kills node `i` with SIGKILL (a crash); its store is kept.
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].kill();
    }

    /// Pauses node `i` with SIGSTOP (a frozen process: connections stay open, nothing answers).
    pub fn pause(&mut self, i: usize) {
        self.nodes[i].signal("-STOP");
    }

    /// Resumes a paused node (SIGCONT).
    pub fn resume(&mut self, i: usize) {
        self.nodes[i].signal("-CONT");
    }

    /// Starts node `i` again (killing it first) on its port and store; does not wait for the
    /// cluster (see [`NatsFaultCluster::wait_ready`]).
    pub fn start_node(&mut self, i: usize) -> Result<(), String> {
        let n = &mut self.nodes[i];
        n.kill();
        let (child, port, _) = spawn(n.store.path(), Some(n.port), &n.args)?;
        n.child = Some(child);
        if port != n.port {
            return Err(format!(
                "{} came back on port {port}, not {}",
                n.name, n.port
            ));
        }
        Ok(())
    }

    /// Restarts node `i` and waits until the cluster places an R3 stream again.
    pub fn restart(&mut self, i: usize) -> Result<(), String> {
        self.start_node(i)?;
        self.wait_ready()
    }

    /// Kills every node, then starts them all again on their stores (file storage keeps the
    /// streams) and waits until the cluster is ready.
    pub fn restart_all(&mut self) -> Result<(), String> {
        for i in 0..3 {
            self.kill(i);
        }
        for i in 0..3 {
            self.start_node(i)?;
        }
        self.wait_ready()
    }

    /// Waits until a running node (asked directly, not through its proxy) can create an R3
    /// stream.
    pub fn wait_ready(&self) -> Result<(), String> {
        let until = Instant::now() + READY_WITHIN;
        let mut last = String::from("no node is running");
        loop {
            for n in self
                .nodes
                .iter()
                .filter(|n| n.is_running() && !n.is_paused())
            {
                match probe_r3(n.port) {
                    Ok(()) => return Ok(()),
                    Err(e) => last = format!("{}: {e}", n.name),
                }
            }
            if Instant::now() >= until {
                return Err(format!(
                    "the proxied nats-server cluster could not place an R3 stream within \
                     {READY_WITHIN:?} ({last})"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The index of the node leading `stream` (a KV bucket `b` is stream `KV_b`): the leader
    /// named by at least two nodes asked directly (an isolated old leader may still name
    /// itself), else by the only node that answers; `None` while no leader is known.
    pub fn stream_leader(&self, stream: &str) -> Option<usize> {
        let named: Vec<usize> = (0..self.nodes.len())
            .filter_map(|i| self.stream_leader_seen_by(i, stream))
            .collect();
        let votes = |l: usize| named.iter().filter(|n| **n == l).count();
        named
            .iter()
            .copied()
            .find(|l| votes(*l) >= 2)
            .or_else(|| (named.len() == 1).then(|| named[0]))
    }

    /// The stream leader as node `i` (asked directly) names it.
    pub fn stream_leader_seen_by(&self, i: usize, stream: &str) -> Option<usize> {
        let n = &self.nodes[i];
        if !n.is_running() || n.is_paused() {
            return None;
        }
        let info = request(
            n.port,
            &format!("$JS.API.STREAM.INFO.{stream}"),
            "",
            Duration::from_secs(2),
        )
        .ok()?;
        let name = json_str(&info, "\"leader\":")?;
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Waits up to `within` for `stream` to have a leader among running, unpaused nodes.
    pub fn wait_stream_leader(&self, stream: &str, within: Duration) -> Result<usize, String> {
        let until = Instant::now() + within;
        loop {
            if let Some(i) = self.stream_leader(stream) {
                if self.nodes[i].is_running() && !self.nodes[i].is_paused() {
                    return Ok(i);
                }
            }
            if Instant::now() >= until {
                return Err(format!("stream {stream} has no leader after {within:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for NatsFaultCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.kill();
        }
    }
}

/// The string value after `field` (e.g. `"leader":`) in a JSON text.
fn json_str(json: &str, field: &str) -> Option<String> {
    let rest = json.split(field).nth(1)?.trim_start().strip_prefix('"')?;
    Some(rest.split('"').next()?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create_r3(port: u16, name: &str) -> Result<String, String> {
        let config = format!(
            "{{\"name\":\"{name}\",\"subjects\":[\"{name}.>\"],\"num_replicas\":3,\
             \"storage\":\"file\"}}"
        );
        let r = request(
            port,
            &format!("$JS.API.STREAM.CREATE.{name}"),
            &config,
            Duration::from_secs(3),
        )?;
        if r.contains("\"error\"") {
            Err(r)
        } else {
            Ok(r)
        }
    }

    #[test]
    fn routes_run_through_the_proxies_so_isolating_a_node_takes_its_quorum() {
        let mut c = NatsFaultCluster::start();
        create_r3(c.nodes[0].port, "iso").expect("an R3 stream");
        let leader = c
            .wait_stream_leader("iso", Duration::from_secs(10))
            .unwrap();
        // Through the client proxy, the node answers.
        assert!(request(
            c.nodes[0].client.port,
            "$JS.API.INFO",
            "",
            Duration::from_secs(2)
        )
        .is_ok());
        // Cut node 0 off: if any route bypassed the proxies, it would still see a quorum.
        c.isolate(0);
        let until = Instant::now() + Duration::from_secs(15);
        loop {
            let alone = create_r3(c.nodes[0].port, "iso2");
            if alone.is_err() {
                break;
            }
            assert!(
                Instant::now() < until,
                "isolated node still placed a stream"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        // The other two keep the stream led (re-elected away from node 0 if it led it).
        let until = Instant::now() + Duration::from_secs(15);
        while c.stream_leader_seen_by(1, "iso").is_none_or(|l| l == 0) {
            assert!(
                Instant::now() < until,
                "no leader on the majority side (was n{})",
                leader + 1
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        c.heal_all();
        c.wait_ready().expect("healed");
        // Kill and restart a node; pause and resume one.
        c.kill(1);
        c.restart(1).expect("restart");
        c.pause(2);
        assert!(c.nodes[2].is_paused());
        c.resume(2);
        c.wait_ready().expect("after resume");
    }

    #[test]
    fn json_str_reads_a_field() {
        let j = r#"{"cluster":{"name":"c","leader":"n2","replicas":[]}}"#;
        assert_eq!(json_str(j, "\"leader\":").as_deref(), Some("n2"));
        assert_eq!(json_str(j, "\"nope\":"), None);
    }
}
