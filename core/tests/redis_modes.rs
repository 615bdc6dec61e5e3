//! The Redis connection modes against real servers: TLS (`rediss://`, private CA, mutual TLS),
//! Sentinel (including a failover while clients are connected) and Cluster (keys in different
//! slots, notices across nodes), and the errors for malformed URLs. The conformance suite also
//! runs against a cluster (see `support::Fixture::redis_cluster`).

mod support;

use fencelock::{Client, ErrorKind};
use fencelock_testkit::{redis_cli, RedisSentinel, RedisTls, TestCerts};
use std::time::{Duration, Instant};
use support::*;

/// Lock, write state, release, and read the state back.
async fn round_trip(c: &Client, key: &str) -> u64 {
    let g = c.acquire(key, Some(ms(5000))).await.unwrap();
    let token = g.token();
    g.put(b("mid")).await.unwrap();
    assert!(g.release(Some(b("done"))).await.unwrap());
    assert_eq!(c.get(key).await.unwrap().state, Some(b("done")));
    token
}

/// A waiter on a held key is woken by the release notice, long before the holder's lease
/// (30 s) would have let the TTL fallback wake it.
async fn waiter_is_woken_by_the_notice(holder: &Client, waiter: &Client, key: &str) {
    let g = holder.acquire(key, Some(ms(5000))).await.unwrap();
    let first = g.token();
    let w = waiter.clone();
    let k = key.to_owned();
    let waiting = tokio::spawn(async move {
        let t = Instant::now();
        let g2 = w.acquire(&k, Some(Duration::from_secs(20))).await.unwrap();
        (t.elapsed(), g2)
    });
    tokio::time::sleep(ms(300)).await;
    assert!(g.release(None).await.unwrap());
    let (took, g2) = waiting.await.unwrap();
    assert!(
        took < Duration::from_secs(5),
        "the waiter on {key:?} took {took:?}: it was not woken by the notice"
    );
    assert!(g2.token() > first);
    assert!(g2.release(None).await.unwrap());
}

/// `n` tasks on each of two clients increment every key's counter under its lock.
async fn with_lock_counts_exactly(a: &Client, other: &Client, keys: &[String], n: u64) {
    let mut tasks = Vec::new();
    for c in [a, other] {
        for key in keys {
            for _ in 0..n {
                let (c, key) = (c.clone(), key.clone());
                tasks.push(tokio::spawn(async move {
                    c.with_lock(&key, Some(Duration::from_secs(30)), |s| async move {
                        let v: u64 = s
                            .map(|s| String::from_utf8_lossy(&s).parse().unwrap())
                            .unwrap_or(0);
                        Ok::<_, std::io::Error>(Some(fencelock::Bytes::from((v + 1).to_string())))
                    })
                    .await
                    .unwrap();
                }));
            }
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    for key in keys {
        let state = a.get(key).await.unwrap().state.unwrap();
        assert_eq!(state, b(&(2 * n).to_string()), "counter of {key:?}");
    }
}

fn lease_30s(builder: fencelock::ClientBuilder) -> fencelock::ClientBuilder {
    builder.lease(Duration::from_secs(30))
}

mod tls {
    use super::*;

    fn server(certs: &TestCerts, require_client_cert: bool) -> RedisServer {
        RedisServer::start_tls(&RedisTls {
            cert: &certs.server_cert(),
            key: &certs.server_key(),
            ca: &certs.ca(),
            require_client_cert,
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn works_with_the_private_ca_including_notices() {
        let certs = TestCerts::generate();
        let srv = server(&certs, false);
        assert!(srv.url().starts_with("rediss://"));
        let connect = || {
            lease_30s(Client::redis(&srv.url()))
                .namespace("tls")
                .tls_root_cert(certs.ca())
                .require_tls(true)
                .connect()
        };
        let (a, b) = (connect().await.unwrap(), connect().await.unwrap());
        let t1 = round_trip(&a, "k").await;
        assert!(round_trip(&b, "k").await > t1);
        waiter_is_woken_by_the_notice(&a, &b, "k").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fails_clearly_without_the_ca_or_without_tls() {
        let certs = TestCerts::generate();
        let srv = server(&certs, false);
        // The system roots do not know the private CA.
        let e = Client::redis(&srv.url())
            .connect_timeout(ms(2000))
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Backend);
        let msg = e.to_string();
        assert!(msg.contains(&srv.port.to_string()), "{msg}");
        assert!(msg.to_lowercase().contains("certificate"), "{msg}");
        assert!(msg.contains("tls_root_cert"), "says what to do: {msg}");
        // `#insecure` (redis-rs's fragment) skips the certificate checks.
        let insecure = Client::redis(&format!("{}/#insecure", srv.url()))
            .namespace("insecure")
            .connect()
            .await
            .unwrap();
        round_trip(&insecure, "k").await;
        // Plain text to a TLS port: the server never answers a RESP handshake.
        let plain = format!("redis://127.0.0.1:{}", srv.port);
        let t = Instant::now();
        let e = Client::redis(&plain)
            .connect_timeout(ms(1500))
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Backend, "{e}");
        assert!(e.to_string().contains(&srv.port.to_string()), "{e}");
        assert!(e.to_string().contains("rediss"), "suggests TLS: {e}");
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        // TLS options with a plain URL would be silently ignored: refused instead.
        for builder in [
            Client::redis(&plain).tls_root_cert(certs.ca()),
            Client::redis(&plain).require_tls(true),
        ] {
            let e = builder.connect().await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
            assert!(e.to_string().contains("rediss://"), "{e}");
        }
        // A CA file that does not exist is named.
        let e = Client::redis(&srv.url())
            .tls_root_cert("/nonexistent/ca.pem")
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mutual_tls_needs_the_client_certificate() {
        let certs = TestCerts::generate();
        let srv = server(&certs, true);
        let c = Client::redis(&srv.url())
            .namespace("mtls")
            .tls_root_cert(certs.ca())
            .tls_client_cert(certs.client_cert(), certs.client_key())
            .connect()
            .await
            .unwrap();
        round_trip(&c, "k").await;
        let e = Client::redis(&srv.url())
            .tls_root_cert(certs.ca())
            .connect_timeout(ms(2000))
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Backend, "{e}");
        assert!(
            e.to_string().contains("tls_client_cert"),
            "says what to do: {e}"
        );
    }

    /// A cluster whose nodes speak only TLS: the cluster connection, the nodes it discovers
    /// and the notice subscription all use the private CA.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tls_cluster() {
        let certs = TestCerts::generate();
        let c = RedisCluster::start_tls(&RedisTls {
            cert: &certs.server_cert(),
            key: &certs.server_key(),
            ca: &certs.ca(),
            require_client_cert: false,
        });
        assert!(c.url().starts_with("rediss+cluster://"));
        let connect = || {
            lease_30s(Client::redis(&c.url()))
                .namespace("tlscl")
                .tls_root_cert(certs.ca())
                .connect()
        };
        let (a, b) = (connect().await.unwrap(), connect().await.unwrap());
        for key in super::cluster::keys_on_every_node(&c, "tlscl", "key") {
            round_trip(&a, &key).await;
            waiter_is_woken_by_the_notice(&a, &b, &key).await;
        }
        let e = Client::redis(&c.url())
            .connect_timeout(ms(2000))
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Backend, "without the CA: {e}");
    }

    /// Sentinels, master and replica speak only TLS: resolving, the data connection, the
    /// `+switch-master` listener and the notice subscription all use the private CA.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tls_sentinel_group_through_a_failover() {
        let certs = TestCerts::generate();
        let s = RedisSentinel::start_tls(&RedisTls {
            cert: &certs.server_cert(),
            key: &certs.server_key(),
            ca: &certs.ca(),
            require_client_cert: false,
        });
        assert!(s.url().starts_with("rediss+sentinel://"));
        let connect = || {
            lease_30s(Client::redis(&s.url()))
                .namespace("tlssen")
                .tls_root_cert(certs.ca())
                .connect()
        };
        let (a, b) = (connect().await.unwrap(), connect().await.unwrap());
        let last = round_trip(&a, "k").await;
        waiter_is_woken_by_the_notice(&a, &b, "k").await;
        s.wait_replicated();
        assert_eq!(s.failover(), s.replica.port);
        tokio::time::sleep(ms(1000)).await;
        let g = a.acquire("k", Some(ms(5000))).await.unwrap();
        assert!(g.token() > last);
        assert!(g.release(None).await.unwrap());
        waiter_is_woken_by_the_notice(&a, &b, "k").await;
        let e = Client::redis(&s.url())
            .connect_timeout(ms(2000))
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Backend, "without the CA: {e}");
    }

    /// Both backends build rustls configurations in one process; neither may panic for want
    /// of a process-level crypto provider.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nats_and_redis_tls_in_one_process() {
        let certs = TestCerts::generate();
        let redis = server(&certs, false);
        let (cert, key) = (certs.server_cert(), certs.server_key());
        let nats = NatsServer::start_with(&[
            "--tls",
            "--tlscert",
            cert.to_str().unwrap(),
            "--tlskey",
            key.to_str().unwrap(),
        ]);
        let r = Client::redis(&redis.url())
            .tls_root_cert(certs.ca())
            .connect()
            .await
            .unwrap();
        let n = Client::nats(&nats.url())
            .tls_root_cert(certs.ca())
            .require_tls(true)
            .connect()
            .await
            .unwrap();
        round_trip(&r, "k").await;
        round_trip(&n, "k").await;
    }
}

mod sentinel {
    use super::*;

    async fn connect(s: &RedisSentinel, ns: &str) -> Client {
        lease_30s(Client::redis(&s.url()))
            .namespace(ns)
            .connect()
            .await
            .unwrap()
    }

    /// Acquires, retrying the `Backend` errors of a connection that broke in the failover
    /// (a write on a dropped connection may or may not have been applied, so the client does
    /// not repeat it by itself).
    async fn acquire_through_failover(c: &Client, key: &str) -> fencelock::LockGuard {
        let until = Instant::now() + Duration::from_secs(40);
        loop {
            match c.acquire(key, Some(ms(5000))).await {
                Ok(g) => return g,
                Err(e) if e.kind() == ErrorKind::Backend && Instant::now() < until => {
                    tokio::time::sleep(ms(100)).await
                }
                Err(e) => panic!("acquiring {key:?} after the failover: {e}"),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn follows_the_master_through_a_failover() {
        let mut s = RedisSentinel::start();
        let (a, a2) = (connect(&s, "sen").await, connect(&s, "sen").await);
        let before = round_trip(&a, "k").await;
        waiter_is_woken_by_the_notice(&a, &a2, "k").await;
        let last = round_trip(&a2, "k").await;
        assert!(last > before);
        // A waiter that is waiting across the failover.
        let held = a.acquire("w", None).await.unwrap();
        let held_token = held.token();
        let w = a2.clone();
        let waiting = tokio::spawn(async move {
            let g = w.acquire("w", Some(Duration::from_secs(40))).await;
            (Instant::now(), g)
        });
        tokio::time::sleep(ms(300)).await;
        // The counter and state must be on the replica before it is promoted.
        s.wait_replicated();
        let old_master = s.master.port;
        let new_master = s.failover();
        // The clients heard `+switch-master` and moved; give them a moment to connect.
        tokio::time::sleep(ms(1000)).await;
        assert_eq!(new_master, s.replica.port);
        // The demoted master is gone for good: the notice subscription must move too.
        s.master.stop();
        assert_ne!(old_master, new_master);

        // No error: the client left the old master before it was demoted and killed.
        let g = a.acquire("k", Some(ms(5000))).await.unwrap();
        assert!(
            g.token() > last,
            "token {} after the failover, {last} before",
            g.token()
        );
        assert_eq!(g.initial_state(), Some(&b("done")));
        assert!(g.release(Some(b("after"))).await.unwrap());
        // The holder of `w` renewed through the failover; its release wakes the waiter, whose
        // subscription moved to the new master (the old one is gone).
        let released = Instant::now();
        assert!(held.release(None).await.unwrap());
        let (acquired, g2) = waiting.await.unwrap();
        let g2 = g2.expect("the waiter across the failover");
        assert!(g2.token() > held_token);
        let took = acquired.duration_since(released);
        assert!(
            took < Duration::from_secs(5),
            "woken {took:?} after the release"
        );
        assert!(g2.release(None).await.unwrap());
        waiter_is_woken_by_the_notice(&a, &a2, "k").await;
        with_lock_counts_exactly(&a, &a2, &["n".to_owned()], 5).await;
        // The data is on the new master.
        let v = redis_cli(new_master, &["GET", "fencelock:sen:{k}:state"]).unwrap();
        assert_eq!(v.trim(), "after");
    }

    /// The master crashes: the sentinel notices (1 s), promotes the replica, and the client,
    /// whose connection broke, finds the new master once the sentinel names it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn follows_the_master_when_it_crashes() {
        let mut s = RedisSentinel::start();
        let (a, a2) = (connect(&s, "crash").await, connect(&s, "crash").await);
        let last = round_trip(&a, "k").await;
        s.wait_replicated();
        s.master.stop();
        let g = acquire_through_failover(&a, "k").await;
        assert!(g.token() > last, "{} after {last}", g.token());
        assert_eq!(g.initial_state(), Some(&b("done")));
        assert!(g.release(None).await.unwrap());
        assert_eq!(s.master_port(), s.replica.port);
        drop(acquire_through_failover(&a2, "warm-up").await);
        waiter_is_woken_by_the_notice(&a, &a2, "k").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unknown_master_name_fails_connect() {
        let s = RedisSentinel::start();
        let url = format!(
            "redis+sentinel://127.0.0.1:{}/no-such-master",
            s.sentinel_port
        );
        let e = Client::redis(&url)
            .connect_timeout(ms(3000))
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Backend, "{e}");
        assert!(e.to_string().contains("no-such-master"), "{e}");
        assert!(
            e.to_string().contains("master name"),
            "says what to do: {e}"
        );
    }
}

mod cluster {
    use super::*;

    /// Keys whose lock keys live on every node of the cluster.
    pub(super) fn keys_on_every_node(c: &RedisCluster, ns: &str, prefix: &str) -> Vec<String> {
        let mut by_node = std::collections::BTreeMap::new();
        for i in 0..100 {
            let key = format!("{prefix}-{i}");
            let node = c.node_of(&format!("fencelock:{ns}:{{{key}}}:lock"));
            by_node.entry(node).or_insert(key);
        }
        assert_eq!(by_node.len(), c.nodes.len(), "{by_node:?}");
        by_node.into_values().collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn locks_notices_tokens_and_counts_across_slots_on_every_node() {
        let c = RedisCluster::start();
        let connect = || lease_30s(Client::redis(&c.url())).namespace("cl").connect();
        let (a, b) = (connect().await.unwrap(), connect().await.unwrap());
        let keys = keys_on_every_node(&c, "cl", "key");
        for key in &keys {
            let t1 = round_trip(&a, key).await;
            let t2 = round_trip(&b, key).await;
            assert!(t2 > t1, "{key:?}: {t1} then {t2}");
            // The subscription sits on one node; notices of keys on the others reach it.
            waiter_is_woken_by_the_notice(&a, &b, key).await;
        }
        let counters = keys_on_every_node(&c, "cl", "counter");
        with_lock_counts_exactly(&a, &b, &counters, 5).await;
        for (key, node) in counters
            .iter()
            .map(|k| (k, c.node_of(&format!("fencelock:cl:{{{k}}}:state"))))
        {
            let v = redis_cli(node, &["GET", &format!("fencelock:cl:{{{key}}}:state")]).unwrap();
            assert_eq!(v.trim(), "10", "{key:?} on node {node}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replication_waits_on_the_keys_node() {
        // WAIT is pipelined with the script, so it must run on the node of the key. Only the
        // first master has a replica: a key there is acknowledged by 1 replica, a key on
        // another master by none. WAIT sent elsewhere (or to all primaries) would get both wrong.
        let mut c = RedisCluster::start();
        c.add_replica(0);
        let keys = keys_on_every_node(&c, "repl", "key");
        let node = |k: &str| c.node_of(&format!("fencelock:repl:{{{k}}}:lock"));
        let replicated = keys.iter().find(|k| node(k) == c.nodes[0].port).unwrap();
        let lonely = keys.iter().find(|k| node(k) != c.nodes[0].port).unwrap();
        let client = Client::redis(&c.url())
            .namespace("repl")
            .replication(2)
            .replication_timeout(ms(300))
            .connect()
            .await
            .unwrap();
        for _ in 0..3 {
            round_trip(&client, replicated).await;
        }
        let e = client.acquire(lonely, None).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Backend);
        assert!(e.to_string().contains("only 0 of 1 replicas"), "{e}");
    }
}

mod cluster_node_loss {
    use super::*;

    /// The notice subscription sits on the only seed. When that node dies, it must move to a
    /// member learned from `CLUSTER SLOTS`, or waiters on the other nodes' keys would sleep
    /// until the holder's 30 s lease ran out.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_notice_subscription_moves_when_its_node_dies() {
        let mut c = RedisCluster::start();
        for n in &c.nodes {
            // Let the surviving nodes keep serving their slots once the first one is gone.
            redis_cli(
                n.port,
                &["CONFIG", "SET", "cluster-require-full-coverage", "no"],
            )
            .unwrap();
        }
        let seed = format!("redis+cluster://127.0.0.1:{}", c.nodes[0].port);
        let connect = || lease_30s(Client::redis(&seed)).namespace("loss").connect();
        let (a, b) = (connect().await.unwrap(), connect().await.unwrap());
        let survivors: Vec<String> = super::cluster::keys_on_every_node(&c, "loss", "key")
            .into_iter()
            .filter(|k| c.node_of(&format!("fencelock:loss:{{{k}}}:lock")) != c.nodes[0].port)
            .collect();
        assert_eq!(survivors.len(), 2);
        waiter_is_woken_by_the_notice(&a, &b, &survivors[0]).await;
        c.nodes[0].stop();
        for key in &survivors {
            waiter_is_woken_by_the_notice(&a, &b, key).await;
        }
    }
}

mod urls {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn malformed_sentinel_and_cluster_urls_are_invalid_arguments_without_passwords() {
        for (url, says) in [
            (
                "redis+sentinel://user:hunter2@h1:26379,h2:26379",
                "names no master",
            ),
            ("redis+sentinel://user:hunter2@h1:26379,,h2/m", "empty host"),
            ("redis+sentinel://:hunter2@h1:x/m", "malformed host"),
            (
                "redis+sentinel://h1/m?sentinel_password=hunter2&foo=1",
                "unknown parameter",
            ),
            ("redis+cluster://:hunter2@h1:7000/3", "only database 0"),
            (
                "rediss+cluster://:hunter2@h1:7000#verify",
                "unknown #fragment",
            ),
        ] {
            let e = Client::builder(url).connect().await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{url}: {e}");
            let msg = e.to_string();
            assert!(msg.contains(says), "{url}: {msg}");
            assert!(msg.contains("h1"), "names the URL: {msg}");
            assert!(!msg.contains("hunter2"), "leaks the password: {msg}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unreachable_sentinels_and_cluster_seeds_fail_connect_naming_them() {
        for url in [
            "redis+sentinel://127.0.0.1:1,127.0.0.1:2/m",
            "redis+cluster://127.0.0.1:1,127.0.0.1:2",
        ] {
            let e = Client::builder(url)
                .connect_timeout(ms(2000))
                .connect()
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Backend, "{url}: {e}");
            assert!(e.to_string().contains("127.0.0.1:1"), "{url}: {e}");
        }
    }
}
