//! A three-node nats-server JetStream cluster on free loopback ports, for replicated (R3)
//! buckets: each node has its own file store in a temporary directory and routes to the others.

use crate::nats::spawn;
use crate::nats_request::request;
use crate::redis::free_port;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a cluster may take to elect its meta leader and place a replicated stream.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// One node of a [`NatsCluster`].
pub struct NatsNode {
    child: Option<Child>,
    /// Its client port on 127.0.0.1.
    pub port: u16,
    /// Its server name (`n1`, `n2`, …), as JetStream reports peers.
    pub name: String,
    args: Vec<String>,
    store: tempfile::TempDir,
}

impl NatsNode {
    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Whether the node's process runs (it was not stopped).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Three nats-server processes with JetStream, routed into one cluster; killed on drop.
pub struct NatsCluster {
    /// The nodes; each keeps its ports and store across [`NatsCluster::restart`].
    pub nodes: Vec<NatsNode>,
    /// The servers' version as they report it.
    pub version: String,
}

impl NatsCluster {
    /// Starts three nodes and waits until the cluster can create an R3 stream. Panics with
    /// setup instructions when it cannot.
    pub fn start() -> NatsCluster {
        Self::try_start().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts three nodes and waits until the cluster can create an R3 stream. Route ports are
    /// picked before any node binds them, so another process (or a node's own client port) can
    /// take one in between and leave a node unable to route or running no longer; then the
    /// whole cluster is started again on fresh ports, up to three times.
    pub fn try_start() -> Result<NatsCluster, String> {
        let mut last = String::new();
        for _ in 0..3 {
            match Self::try_start_once() {
                Ok(c) => return Ok(c),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn try_start_once() -> Result<NatsCluster, String> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let cluster = format!(
            "fl{}x{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        // Route ports must be known before the first node starts, so all are picked up front.
        let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let mut nodes = Vec::new();
        let mut version = String::new();
        for (i, route) in routes.iter().enumerate() {
            let peers: Vec<String> = routes
                .iter()
                .filter(|p| *p != route)
                .map(|p| format!("nats://127.0.0.1:{p}"))
                .collect();
            let args = vec![
                "-n".to_string(),
                format!("n{}", i + 1),
                "--cluster_name".into(),
                cluster.clone(),
                "--cluster".into(),
                format!("nats://127.0.0.1:{route}"),
                "--routes".into(),
                peers.join(","),
            ];
            let store = tempfile::tempdir().map_err(|e| format!("temp dir for JetStream: {e}"))?;
            let (child, port, v) = spawn(store.path(), None, &args)?;
            version = v;
            nodes.push(NatsNode {
                child: Some(child),
                port,
                name: format!("n{}", i + 1),
                args,
                store,
            });
        }
        let mut c = NatsCluster { nodes, version };
        if let Err(e) = c.wait_ready() {
            let exited: Vec<String> = c
                .nodes
                .iter_mut()
                .filter_map(|n| match n.child.as_mut().map(Child::try_wait) {
                    Some(Ok(Some(status))) => Some(format!("{} exited ({status})", n.name)),
                    _ => None,
                })
                .collect();
            return Err(format!("{e}; {}", exited.join(", ")));
        }
        Ok(c)
    }

    /// The client URLs of all nodes, comma-separated (`nats://127.0.0.1:a,nats://…:b,…`).
    pub fn url(&self) -> String {
        self.urls().join(",")
    }

    /// The client URLs of all nodes.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(NatsNode::url).collect()
    }

    /// Kills node `i` (SIGKILL, like a crash); its store is kept for [`NatsCluster::restart`].
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].stop();
    }

    /// Starts node `i` again (killing it first if it runs) on its ports and store, and waits
    /// until the cluster can again place an R3 stream.
    pub fn restart(&mut self, i: usize) -> Result<(), String> {
        let n = &mut self.nodes[i];
        n.stop();
        let (child, port, _) = spawn(n.store.path(), Some(n.port), &n.args)?;
        if port != n.port {
            return Err(format!(
                "{} came back on port {port}, not {}",
                n.name, n.port
            ));
        }
        n.child = Some(child);
        self.wait_ready()
    }

    /// Waits until the running nodes can create (and delete) an R3 stream: a meta leader is
    /// elected and enough peers are routed to place three replicas.
    pub fn wait_ready(&self) -> Result<(), String> {
        let until = Instant::now() + READY_WITHIN;
        let mut last = String::from("no node is running");
        loop {
            for n in self.nodes.iter().filter(|n| n.is_running()) {
                match probe_r3(n.port) {
                    Ok(()) => return Ok(()),
                    Err(e) => last = format!("{}: {e}", n.name),
                }
            }
            if Instant::now() >= until {
                return Err(format!(
                    "the nats-server cluster could not place an R3 stream within {READY_WITHIN:?} \
                     ({last})"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.stop();
        }
    }
}

/// Creates and deletes a memory-backed R3 stream through the node at `port`.
pub(crate) fn probe_r3(port: u16) -> Result<(), String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "fencelock_probe_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let config = format!(
        "{{\"name\":\"{name}\",\"subjects\":[\"{name}.>\"],\"num_replicas\":3,\
         \"storage\":\"memory\"}}"
    );
    let t = Duration::from_secs(3);
    let created = request(port, &format!("$JS.API.STREAM.CREATE.{name}"), &config, t)?;
    if created.contains("\"error\"") {
        return Err(created);
    }
    let deleted = request(port, &format!("$JS.API.STREAM.DELETE.{name}"), "", t)?;
    if deleted.contains("\"error\"") {
        return Err(deleted);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_nodes_place_an_r3_stream_and_survive_a_restart_of_one() {
        let mut c = NatsCluster::start();
        assert_eq!(c.nodes.len(), 3);
        assert_eq!(c.url().split(',').count(), 3);
        // With one node down, two of three still form a quorum for an R3 stream.
        c.kill(0);
        assert!(!c.nodes[0].is_running());
        c.wait_ready().expect("two nodes of three keep a quorum");
        c.restart(0).expect("restart");
        assert!(c.nodes[0].is_running());
        probe_r3(c.nodes[0].port).expect("the restarted node serves JetStream again");
    }

    #[test]
    fn a_single_server_cannot_place_an_r3_stream() {
        // The probe must be able to fail, or it would not prove a cluster formed.
        let s = crate::NatsServer::start();
        let e = probe_r3(s.port).unwrap_err();
        assert!(e.contains("error"), "{e}");
    }
}
