//! Which Redis deployment a URL names: one node, a Sentinel-managed master, or a Cluster.
//!
//! One node keeps redis-rs's own URL forms (`redis://`, `rediss://`, `redis+unix://`, `unix://`).
//! Sentinel and Cluster list several hosts in one authority, which `url`-style parsers reject,
//! so they are parsed here:
//!
//! - `redis+sentinel://[user:pass@]host[:26379][,host…]/<master>[/<db>][?sentinel_username=…&sentinel_password=…]`
//!   (the form of Python's `redis-sentinel-url`/kombu), and Lettuce's
//!   `redis-sentinel://[user:pass@]host[,host…][/<db>]#<master>` as an alias;
//! - `redis+cluster://[user:pass@]host[:6379][,host…]`, seed nodes of a cluster;
//! - the `rediss` variants (`rediss+sentinel`, `rediss-sentinel`, `rediss+cluster`) use TLS to
//!   every node, and a `#insecure` fragment turns off certificate checks as in redis-rs.
//!
//! Credentials in the authority are for the data nodes; a Sentinel's own are query parameters,
//! as in go-redis's `FailoverOptions` (`SentinelUsername`/`SentinelPassword`).

use super::redact;
use crate::error::{Error, ErrorKind, Result};

/// A parsed Sentinel or Cluster URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub mode: Mode,
    /// The hosts of the authority: sentinels, or cluster seed nodes.
    pub hosts: Vec<(String, u16)>,
    pub tls: bool,
    /// `#insecure`: TLS without certificate checks.
    pub insecure: bool,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    Sentinel {
        master: String,
        db: i64,
        sentinel_username: Option<String>,
        sentinel_password: Option<String>,
    },
    Cluster,
}

/// The deployment kind a URL's scheme names, without parsing the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Single,
    Sentinel,
    Cluster,
}

/// The Redis deployment kind of `scheme` (lower case), or `None` if it is not a Redis scheme.
pub(crate) fn scheme_kind(scheme: &str) -> Option<Scheme> {
    Some(match scheme {
        "redis" | "rediss" | "redis+unix" | "unix" => Scheme::Single,
        "redis+sentinel" | "rediss+sentinel" | "redis-sentinel" | "rediss-sentinel" => {
            Scheme::Sentinel
        }
        "redis+cluster" | "rediss+cluster" => Scheme::Cluster,
        _ => return None,
    })
}

const SENTINEL_FORM: &str =
    "redis+sentinel://[user:password@]host:26379[,host:port…]/<master name>[/<db>]";
const CLUSTER_FORM: &str = "redis+cluster://[user:password@]host:port[,host:port…]";

/// Parses a Sentinel or Cluster URL; errors name the URL (password hidden) and the expected form.
pub(crate) fn parse(url: &str) -> Result<Target> {
    let bad = |what: &str, form: &str| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{:?} {what}; use {form}", redact(url)),
        )
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("is not a URL", SENTINEL_FORM))?;
    let scheme = scheme.to_ascii_lowercase();
    let (sentinel, form, default_port) = match scheme_kind(&scheme) {
        Some(Scheme::Sentinel) => (true, SENTINEL_FORM, 26379),
        Some(Scheme::Cluster) => (false, CLUSTER_FORM, 6379),
        _ => return Err(bad("is not a Sentinel or Cluster URL", SENTINEL_FORM)),
    };
    let tls = scheme.starts_with("rediss");
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (userinfo, hostlist) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(u) => {
            let (user, pass) = match u.split_once(':') {
                Some((user, pass)) => (user, Some(pass)),
                None => (u, None),
            };
            let user = decode(user).ok_or_else(|| bad("has a malformed user name", form))?;
            let pass = pass
                .map(|p| decode(p).ok_or_else(|| bad("has a malformed password", form)))
                .transpose()?;
            ((!user.is_empty()).then_some(user), pass)
        }
    };
    let mut hosts = Vec::new();
    for h in hostlist.split(',').map(str::trim) {
        if h.is_empty() {
            return Err(bad("has an empty host in its host list", form));
        }
        hosts.push(host_port(h, default_port).ok_or_else(|| {
            bad(
                &format!("has a malformed host {h:?} (expected host or host:port)"),
                form,
            )
        })?);
    }

    let mut insecure = false;
    let mut fragment_master = None;
    match fragment {
        None | Some("") => {}
        Some("insecure") if tls => insecure = true,
        Some("insecure") => {
            return Err(bad(
                "asks for #insecure TLS but its scheme is not rediss…",
                form,
            ))
        }
        Some(f) if sentinel => fragment_master = Some(f),
        Some(_) => return Err(bad("has an unknown #fragment (only #insecure)", form)),
    }

    let mut params = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = decode(v).ok_or_else(|| bad(&format!("has a malformed {k} value"), form))?;
        params.push((k.to_owned(), v));
    }

    let mode = if sentinel {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (master, db) = match (fragment_master, segments.as_slice()) {
            (Some(m), []) => (m.to_owned(), None),
            (Some(m), [db]) => (m.to_owned(), Some(*db)),
            (None, [m]) => (decode(m).unwrap_or_default(), None),
            (None, [m, db]) => (decode(m).unwrap_or_default(), Some(*db)),
            (None, []) => return Err(bad("names no master", form)),
            _ => return Err(bad("has a path with too many parts", form)),
        };
        if master.is_empty() {
            return Err(bad("names no master", form));
        }
        let db =
            match db {
                None => 0,
                Some(d) => d.parse().ok().filter(|d| *d >= 0).ok_or_else(|| {
                    bad(&format!("has a database {d:?} that is not a number"), form)
                })?,
            };
        let (mut sentinel_username, mut sentinel_password) = (None, None);
        for (k, v) in params {
            match k.as_str() {
                "sentinel_username" => sentinel_username = Some(v),
                "sentinel_password" => sentinel_password = Some(v),
                _ => {
                    return Err(bad(
                        &format!(
                            "has an unknown parameter {k:?} (known: sentinel_username, \
                             sentinel_password)"
                        ),
                        form,
                    ))
                }
            }
        }
        Mode::Sentinel {
            master,
            db,
            sentinel_username,
            sentinel_password,
        }
    } else {
        if !matches!(path, "" | "0") {
            return Err(bad(
                "selects a database, but a Redis Cluster has only database 0",
                form,
            ));
        }
        if let Some((k, _)) = params.first() {
            return Err(bad(&format!("has an unknown parameter {k:?}"), form));
        }
        Mode::Cluster
    };
    Ok(Target {
        mode,
        hosts,
        tls,
        insecure,
        username,
        password,
    })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn host_port(s: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return None;
    }
    let port = match port {
        None => default_port,
        Some(p) => p.parse().ok().filter(|p| *p != 0)?,
    };
    Some((host.to_owned(), port))
}

/// Percent-decoding of URL parts (user names and passwords often contain reserved characters).
fn decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = (bytes.next()? as char).to_digit(16)?;
            let lo = (bytes.next()? as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentinel(t: &Target) -> (&str, i64, Option<&str>) {
        match &t.mode {
            Mode::Sentinel {
                master,
                db,
                sentinel_password,
                ..
            } => (master, *db, sentinel_password.as_deref()),
            Mode::Cluster => panic!("not sentinel"),
        }
    }

    #[test]
    fn sentinel_urls_in_both_spellings() {
        let t = parse("redis+sentinel://u:p%40ss@h1:26380,h2/mymaster/3").unwrap();
        assert_eq!(t.hosts, [("h1".into(), 26380), ("h2".into(), 26379)]);
        assert_eq!(sentinel(&t), ("mymaster", 3, None));
        assert_eq!(
            (t.username.as_deref(), t.password.as_deref()),
            (Some("u"), Some("p@ss"))
        );
        assert!(!t.tls);
        let lettuce = parse("rediss-sentinel://:pw@[::1]:5000,h2:5001/2#mymaster").unwrap();
        assert_eq!(lettuce.hosts[0], ("::1".into(), 5000));
        assert_eq!(sentinel(&lettuce), ("mymaster", 2, None));
        assert!(lettuce.tls && !lettuce.insecure);
        assert_eq!(lettuce.username, None);
        let q = parse("rediss+sentinel://h/m?sentinel_password=s%3Bx#insecure").unwrap();
        assert_eq!(sentinel(&q), ("m", 0, Some("s;x")));
        assert!(q.insecure);
    }

    #[test]
    fn cluster_urls() {
        let t = parse("redis+cluster://h1:7000,h2:7001,h3").unwrap();
        assert_eq!(t.mode, Mode::Cluster);
        assert_eq!(t.hosts.len(), 3);
        assert_eq!(t.hosts[2], ("h3".into(), 6379));
    }

    #[test]
    fn malformed_urls_are_invalid_arguments_naming_the_url_without_its_password() {
        for (url, says) in [
            ("redis+sentinel://u:secret@h1,h2", "names no master"),
            ("redis+sentinel://u:secret@h1,,h2/m", "empty host"),
            ("redis+sentinel://u:secret@h1:port/m", "malformed host"),
            ("redis+sentinel://u:secret@h1/m/x", "not a number"),
            (
                "redis+sentinel://u:secret@h1/m?timeout=1",
                "unknown parameter",
            ),
            ("redis+cluster://u:secret@h1:1/2", "only database 0"),
            ("redis+cluster://u:secret@h1:1#insecure", "not rediss"),
            ("redis+cluster://u:secret@h1:99999", "malformed host"),
        ] {
            let e = parse(url).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{url}");
            let msg = e.to_string();
            assert!(msg.contains(says), "{url}: {msg}");
            assert!(!msg.contains("secret"), "{msg}");
            assert!(msg.contains("***@h1"), "{msg}");
        }
    }
}
