//! The NATS deployment a bench run measures: a server given with `--url`, else one started by
//! the bench, a single server for R1 and a three-node JetStream cluster for `--replicas 3`.
//! With replicas the figures include the stream leader's consensus round with its peers (and a
//! hop to the leader when the client's connection is on another node), for both fencelock and
//! the raw client, which share the cluster and the bucket settings.

use crate::Res;
use fencelock::Client;
use fencelock_testkit::{NatsCluster, NatsServer};

/// Keeps the servers the bench started alive; dropping it stops them.
pub enum Target {
    Given,
    Single { _server: NatsServer },
    Cluster { _cluster: NatsCluster },
}

impl Target {
    /// Uses `url` when given, else starts a server (R1) or a three-node cluster (replicas > 1).
    pub fn start(url: Option<&str>, replicas: usize) -> Res<(Target, String)> {
        Ok(match url {
            Some(u) => (Target::Given, u.to_owned()),
            None if replicas > 1 => {
                let c = NatsCluster::try_start()?;
                let u = c.url();
                (Target::Cluster { _cluster: c }, u)
            }
            None => {
                let s = NatsServer::try_start()?;
                let u = s.url();
                (Target::Single { _server: s }, u)
            }
        })
    }

    /// The process id of the server the bench started alone (for its CPU time).
    pub fn pid(&self) -> Option<u32> {
        match self {
            Target::Single { _server } => _server.pid(),
            _ => None,
        }
    }

    /// How the run's header describes the servers.
    pub fn describe(&self) -> &'static str {
        match self {
            Target::Given => "",
            Target::Single { .. } => " (started by the bench)",
            Target::Cluster { .. } => " (a 3-node cluster started by the bench)",
        }
    }
}

/// Creates the fencelock namespace's bucket with `replicas`; the workloads' clients, which ask
/// for no replica count, then bind it as it is.
pub async fn create_namespace(url: &str, namespace: &str, replicas: usize) -> Res<()> {
    let c = Client::builder(url)
        .namespace(namespace)
        .replication(replicas)
        .connect()
        .await?;
    c.close().await;
    Ok(())
}

/// Connects the raw client to every server of `url` (comma-separated, as fencelock takes it).
pub async fn connect_raw(url: &str) -> Res<async_nats::Client> {
    let addrs = url
        .split(',')
        .map(|u| u.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(async_nats::connect(addrs).await?)
}
