//! Listing a namespace's keys with `SCAN`, which walks one node's keyspace: on a cluster, one
//! walk per primary (each primary owns a share of the slots, and replicas hold copies).

use super::connection::Conn;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{RedisResult, Value};

/// Where one `SCAN` walk runs.
pub(super) enum Node<'a> {
    /// The connection's own node (one node, or Sentinel's current master).
    Conn(&'a mut Conn),
    /// The primary owning this slot of a cluster.
    Slot(&'a mut ClusterConnection, u16),
}

/// The names of the node's keys matching `pattern`.
pub(super) async fn scan(node: &mut Node<'_>, pattern: &[u8]) -> RedisResult<Vec<Vec<u8>>> {
    let mut found = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000);
        let (next, batch): (u64, Vec<Vec<u8>>) = match node {
            Node::Conn(c) => cmd.query_async(&mut **c).await?,
            Node::Slot(c, slot) => {
                // The same node every time: a cursor means nothing to another one.
                let at = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::new(
                    *slot,
                    SlotAddr::Master,
                )));
                redis::from_redis_value(c.route_command(cmd, at).await?)?
            }
        };
        found.extend(batch);
        if next == 0 {
            return Ok(found);
        }
        cursor = next;
    }
}

/// One slot of each primary, from `CLUSTER SLOTS` (whose ranges name their primary first).
pub(super) async fn one_slot_per_primary(c: &mut ClusterConnection) -> RedisResult<Vec<u16>> {
    let reply = c
        .route_command(
            redis::cmd("CLUSTER").arg("SLOTS").clone(),
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
        )
        .await?;
    Ok(primaries(&reply))
}

fn primaries(reply: &Value) -> Vec<u16> {
    let mut seen = std::collections::HashSet::new();
    let mut slots = Vec::new();
    let Value::Array(ranges) = reply else {
        return slots;
    };
    for range in ranges {
        let Value::Array(parts) = range else { continue };
        let (Some(Value::Int(start)), Some(Value::Array(primary))) = (parts.first(), parts.get(2))
        else {
            continue;
        };
        let addr = (primary.first().cloned(), primary.get(1).cloned());
        if let Ok(slot) = u16::try_from(*start) {
            if seen.insert(format!("{addr:?}")) {
                slots.push(slot);
            }
        }
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_slot_is_picked_per_primary() {
        let node = |p: i64| {
            Value::Array(vec![
                Value::BulkString(b"127.0.0.1".to_vec()),
                Value::Int(p),
                Value::BulkString(b"id".to_vec()),
            ])
        };
        let range = |a: i64, b: i64, p: i64| {
            Value::Array(vec![Value::Int(a), Value::Int(b), node(p), node(p + 100)])
        };
        let reply = Value::Array(vec![
            range(0, 100, 7000),
            range(101, 200, 7001),
            range(201, 300, 7000),
        ]);
        assert_eq!(primaries(&reply), [0, 101]);
    }
}
