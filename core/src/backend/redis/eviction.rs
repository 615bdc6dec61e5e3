//! Refusing a Redis that may evict keys. Under `maxmemory` with any policy but `noeviction`,
//! Redis deletes keys to make room: a held lock (every lock key has a TTL, so even the
//! `volatile-*` policies pick it), a state, or the meta hash with the fencing counter. Locks
//! would vanish under their holders and tokens restart, silently, so `connect` checks every
//! node that takes writes.

use super::connection::Conn;
use super::list;
use crate::error::{Error, ErrorKind, Result};
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::Value;

/// Fails when a primary evicts keys. A server that does not answer `INFO memory` (a command
/// renamed or denied by an ACL) is not judged: the operator's settings are documented instead.
pub(super) async fn check(conn: &Conn, server: &str) -> Result<()> {
    let infos = match infos(conn).await {
        Ok(i) => i,
        Err(e) => {
            tracing::debug!(server, error = %e, "cannot read INFO memory; eviction not checked");
            return Ok(());
        }
    };
    for info in infos {
        if let Some((maxmemory, policy)) = evicting(&info) {
            return Err(Error::new(
                ErrorKind::Backend,
                format!(
                    "{server} evicts keys (maxmemory {maxmemory}, maxmemory-policy {policy}): it \
                     could delete a held lock, a state or the fencing counter; set \
                     `maxmemory-policy noeviction` (or maxmemory 0) on every primary, or give \
                     fencelock a Redis of its own"
                ),
            ));
        }
    }
    Ok(())
}

async fn infos(conn: &Conn) -> redis::RedisResult<Vec<String>> {
    let mut cmd = redis::cmd("INFO");
    cmd.arg("memory");
    match conn {
        Conn::Cluster(c) => {
            let mut c = c.clone();
            let mut out = Vec::new();
            for slot in list::one_slot_per_primary(&mut c).await? {
                let at = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::new(
                    slot,
                    SlotAddr::Master,
                )));
                let v: Value = c.route_command(cmd.clone(), at).await?;
                out.push(redis::from_redis_value(v)?);
            }
            Ok(out)
        }
        other => {
            let mut c = other.clone();
            Ok(vec![cmd.query_async(&mut c).await?])
        }
    }
}

/// `(maxmemory, policy)` when the `INFO memory` text says keys may be evicted.
fn evicting(info: &str) -> Option<(String, String)> {
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
            .map(str::to_owned)
    };
    let maxmemory = field("maxmemory")?;
    let policy = field("maxmemory_policy")?;
    (maxmemory != "0" && policy != "noeviction").then(|| {
        let human = field("maxmemory_human").unwrap_or(maxmemory);
        (human, policy)
    })
}

#[cfg(test)]
mod tests {
    use super::evicting;

    #[test]
    fn only_a_memory_limit_with_an_evicting_policy_is_refused() {
        let info = |max: &str, policy: &str| {
            format!(
                "# Memory\r\nused_memory:1\r\nmaxmemory:{max}\r\nmaxmemory_human:{max}B\r\n\
                 maxmemory_policy:{policy}\r\n"
            )
        };
        assert_eq!(evicting(&info("0", "allkeys-lru")), None);
        assert_eq!(evicting(&info("1000", "noeviction")), None);
        assert_eq!(
            evicting(&info("1000", "volatile-lru")),
            Some(("1000B".into(), "volatile-lru".into()))
        );
        assert_eq!(evicting("# Memory\r\n"), None);
    }
}
