//! Command-line arguments, the stores to measure and how long each part of the run lasts.

use std::time::Duration;

pub(crate) const USAGE: &str =
    "usage: fencelock-bench [--backend nats|redis|all] [--quick] [--only W1,W2,W3,W4,W5]
                       [--url nats://host:port] [--redis-url redis://host:port]
                       [--redis-fsync everysec|always|off] [--check] [--replicas 3]
  --backend      the store(s) to measure (default nats); all = nats, then redis, one table each
  --quick        short runs, for smoke testing (W5 then uses 2 000 locks with a 3 s lease)
  --only         run only these workloads
  --url          use this NATS server (JetStream on) instead of starting one (also --nats-url)
  --redis-url    use this Redis server instead of starting one; fencelock and the raw baseline
                 both use it, and the bench deletes its own keys afterwards
  --redis-fsync  the append-only file of the redis-server the bench starts: everysec (default:
                 AOF on, fsync once a second, Redis's own AOF default and like nats-server's
                 periodic sync), always (fsync before every reply, as the testkit's durability
                 tests run it) or off (no AOF)
  --check        exit with status 1 when a figure misses its target
  --replicas     NATS stream replicas of both buckets (default 1); above 1 without --url the
                 bench starts a 3-node cluster";

/// The stores the bench can measure.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Backend {
    Nats,
    Redis,
}

impl Backend {
    /// The raw column's heading.
    pub(crate) fn raw_label(self) -> &'static str {
        match self {
            Backend::Nats => "raw async-nats",
            Backend::Redis => "raw redis-rs",
        }
    }
}

pub(crate) struct Args {
    pub(crate) quick: bool,
    pub(crate) only: Vec<String>,
    pub(crate) backends: Vec<Backend>,
    pub(crate) url: Option<String>,
    pub(crate) redis_url: Option<String>,
    pub(crate) redis_fsync: String,
    pub(crate) check: bool,
    pub(crate) replicas: usize,
}

impl Args {
    pub(crate) fn runs(&self, w: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == w)
    }
}

pub(crate) fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        quick: false,
        only: Vec::new(),
        backends: vec![Backend::Nats],
        url: None,
        redis_url: None,
        redis_fsync: "everysec".into(),
        check: false,
        replicas: 1,
    };
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = |n: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{n} needs a value\n{USAGE}"))
        };
        match name.as_str() {
            "--quick" => a.quick = true,
            "--check" => a.check = true,
            "--url" | "--nats-url" => a.url = Some(value("--url")?),
            "--redis-url" => a.redis_url = Some(value("--redis-url")?),
            "--replicas" => {
                let v = value("--replicas")?;
                a.replicas = match v.parse::<usize>() {
                    Ok(n @ 1..=5) => n,
                    _ => return Err(format!("--replicas takes 1 to 5, not {v:?}\n{USAGE}")),
                };
            }
            "--redis-fsync" => {
                let v = value("--redis-fsync")?.to_ascii_lowercase();
                if !["everysec", "always", "off"].contains(&v.as_str()) {
                    return Err(format!("unknown --redis-fsync {v:?}\n{USAGE}"));
                }
                a.redis_fsync = v;
            }
            "--backend" => {
                a.backends = match value("--backend")?.to_ascii_lowercase().as_str() {
                    "nats" => vec![Backend::Nats],
                    "redis" => vec![Backend::Redis],
                    "all" => vec![Backend::Nats, Backend::Redis],
                    other => return Err(format!("unknown backend {other:?}\n{USAGE}")),
                }
            }
            "--only" => {
                for w in value("--only")?.split(',').map(str::trim) {
                    let w = w.to_ascii_uppercase();
                    if !["W1", "W2", "W3", "W4", "W5"].contains(&w.as_str()) {
                        return Err(format!("unknown workload {w:?} in --only\n{USAGE}"));
                    }
                    a.only.push(w);
                }
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(a)
}

/// How long each part runs.
pub(crate) struct Plan {
    /// Interleaved rounds of raw and fencelock for W1, W2 and W4.
    pub(crate) rounds: usize,
    pub(crate) round: Duration,
    pub(crate) warm: Duration,
    pub(crate) w3_rounds: usize,
    pub(crate) w3_reps: usize,
    pub(crate) w3_raw: Duration,
    /// Pause that lets the W3 waiter settle into its wait before the holder releases.
    pub(crate) w3_settle: Duration,
    pub(crate) w5_locks: usize,
    pub(crate) w5_lease: Duration,
    pub(crate) w5_window: Duration,
}

impl Plan {
    pub(crate) fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                rounds: 2,
                round: Duration::from_millis(250),
                warm: Duration::from_millis(100),
                w3_rounds: 2,
                w3_reps: 20,
                w3_raw: Duration::from_millis(200),
                w3_settle: Duration::from_millis(5),
                w5_locks: 2_000,
                w5_lease: Duration::from_secs(3),
                w5_window: Duration::from_millis(1_500),
            }
        } else {
            Plan {
                rounds: 5,
                round: Duration::from_secs(1),
                warm: Duration::from_millis(300),
                w3_rounds: 5,
                w3_reps: 60,
                w3_raw: Duration::from_millis(500),
                w3_settle: Duration::from_millis(5),
                w5_locks: 10_000,
                // W5's lease: 30 s (renewal at lease/3 = 10 s); the window covers one
                // renewal of every lock.
                w5_lease: Duration::from_secs(30),
                w5_window: Duration::from_secs(12),
            }
        }
    }
}
