//! The nodes a Redis Cluster client may subscribe to for notices.
//!
//! Classic `PUBLISH` (also from a script) is forwarded over the cluster bus to every node,
//! primaries and replicas alike, so one subscription on any one node hears the notices of all
//! slots. Sharded pub/sub (`SPUBLISH`) would cost less bandwidth, but it delivers only on the
//! shard owning the channel's slot: the notices of one namespace would need a channel per slot
//! and a subscription per shard that follows resharding. Lock notices are small and rare next
//! to the scripts themselves, so the broadcast is the simpler correct choice.
//!
//! The subscription tries the URL's seed nodes, then every node seen in `CLUSTER SLOTS`, so it
//! survives the loss of the node it was on even when that was a seed.

use super::connection::node_info;
use super::target::Target;
use redis::aio::PubSub;
use redis::{RedisError, RedisResult, TlsCertificates, Value};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub(crate) struct ClusterNodes {
    target: Arc<Target>,
    certs: Option<TlsCertificates>,
    /// Seeds first, then nodes learned from `CLUSTER SLOTS`; the last working one first.
    known: Arc<Mutex<Vec<(String, u16)>>>,
}

impl ClusterNodes {
    pub fn new(t: &Target, certs: Option<TlsCertificates>) -> RedisResult<ClusterNodes> {
        // Check every seed now, so a bad one fails `connect` instead of a later reconnect.
        for (h, p) in &t.hosts {
            node_info(t, h, *p, 0)?;
        }
        Ok(ClusterNodes {
            known: Arc::new(Mutex::new(t.hosts.clone())),
            target: Arc::new(t.clone()),
            certs,
        })
    }

    pub fn certs(&self) -> Option<TlsCertificates> {
        self.certs.clone()
    }

    fn client(&self, host: &str, port: u16) -> RedisResult<redis::Client> {
        let info = node_info(&self.target, host, port, 0)?;
        match &self.certs {
            Some(c) => redis::Client::build_with_tls(info, c.clone()),
            None => redis::Client::open(info),
        }
    }

    /// A pub/sub connection to the first node that answers.
    pub async fn pubsub(&self) -> RedisResult<PubSub> {
        let candidates = self.known.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut last: Option<RedisError> = None;
        for (host, port) in candidates {
            match self.try_node(&host, port).await {
                Ok(p) => return Ok(p),
                Err(e) => {
                    tracing::debug!(host = %host, port, error = %e, "cluster node unavailable for notices");
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| {
            RedisError::from((redis::ErrorKind::Io, "no cluster node to subscribe on"))
        }))
    }

    async fn try_node(&self, host: &str, port: u16) -> RedisResult<PubSub> {
        let client = self.client(host, port)?;
        // Learn the current members first: the next reconnect may need one that is not a seed.
        let mut conn = client.get_multiplexed_async_connection().await?;
        let slots: Value = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async(&mut conn)
            .await?;
        let pubsub = client.get_async_pubsub().await?;
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = vec![(host.to_owned(), port)];
        next.extend(self.target.hosts.iter().cloned());
        next.extend(slot_nodes(&slots, host));
        next.extend(known.drain(..));
        let mut seen = std::collections::HashSet::new();
        next.retain(|n| seen.insert(n.clone()));
        *known = next;
        Ok(pubsub)
    }
}

/// The `(host, port)` of every node in a `CLUSTER SLOTS` reply; an empty host means the node
/// we asked (`asked`).
fn slot_nodes(slots: &Value, asked: &str) -> Vec<(String, u16)> {
    let mut out = Vec::new();
    let Value::Array(ranges) = slots else {
        return out;
    };
    for range in ranges {
        let Value::Array(parts) = range else { continue };
        for node in parts.iter().skip(2) {
            let Value::Array(n) = node else { continue };
            let host = match n.first() {
                Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
                Some(Value::SimpleString(s)) => s.clone(),
                _ => continue,
            };
            let host = if host.is_empty() || host == "?" {
                asked.to_owned()
            } else {
                host
            };
            if let Some(Value::Int(p)) = n.get(1) {
                if let Ok(p) = u16::try_from(*p) {
                    out.push((host, p));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_slots_replies_list_every_node() {
        let node = |h: &str, p: i64| {
            Value::Array(vec![
                Value::BulkString(h.as_bytes().to_vec()),
                Value::Int(p),
                Value::BulkString(b"id".to_vec()),
            ])
        };
        let reply = Value::Array(vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                node("10.0.0.1", 7000),
                node("", 7003),
            ]),
            Value::Array(vec![
                Value::Int(5461),
                Value::Int(16383),
                node("10.0.0.2", 7001),
            ]),
        ]);
        assert_eq!(
            slot_nodes(&reply, "seed"),
            [
                ("10.0.0.1".to_owned(), 7000),
                ("seed".to_owned(), 7003),
                ("10.0.0.2".to_owned(), 7001)
            ]
        );
    }
}
