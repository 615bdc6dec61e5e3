//! A `redis-server` child process (the Debian package) on a free loopback port, killed on drop.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running redis-server with its data directory in a temporary directory.
pub struct RedisServer {
    child: Option<Child>,
    /// The port on 127.0.0.1 (the TLS port for [`RedisServer::start_tls`]).
    pub port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    tls: bool,
}

/// The files of a TLS server (PEM), e.g. from [`crate::TestCerts`].
pub struct RedisTls<'a> {
    pub cert: &'a std::path::Path,
    pub key: &'a std::path::Path,
    /// The CA that signs client certificates.
    pub ca: &'a std::path::Path,
    /// Require a client certificate (mutual TLS).
    pub require_client_cert: bool,
}

/// The redis-server binary: `$FENCELOCK_REDIS_SERVER`, else `redis-server` on `PATH`.
pub fn redis_server_binary() -> PathBuf {
    std::env::var("FENCELOCK_REDIS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("redis-server"))
}

impl RedisServer {
    /// Starts a server (append-only file on, so restarts keep data).
    pub fn start() -> RedisServer {
        Self::start_with(&[])
    }

    /// Starts a server with extra arguments, e.g. `["--replicaof", "127.0.0.1", "6379"]`.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        Self::start_inner(extra, false)
    }

    /// Starts a server that accepts only TLS connections (`--port 0 --tls-port <port>`).
    pub fn start_tls(tls: &RedisTls<'_>) -> RedisServer {
        Self::start_tls_with(tls, &[])
    }

    /// [`RedisServer::start_tls`] with extra arguments.
    pub fn start_tls_with(tls: &RedisTls<'_>, extra: &[&str]) -> RedisServer {
        let args = server_tls_args(tls);
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend(extra);
        Self::start_inner(&args, true)
    }

    pub(crate) fn start_inner(extra: &[&str], tls: bool) -> RedisServer {
        Self::try_start_inner(extra, tls).unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn try_start_inner(extra: &[&str], tls: bool) -> Result<RedisServer, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir for redis: {e}"))?;
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let mut last = String::new();
        // Redis cannot pick its own port, so take a free one and retry if someone races us.
        for _ in 0..5 {
            let port = free_port();
            match spawn(&dir, port, &extra, tls) {
                Ok(child) => {
                    return Ok(RedisServer {
                        child: Some(child),
                        port,
                        dir,
                        extra,
                        tls,
                    })
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// `redis://127.0.0.1:<port>`, or `rediss://…` for a TLS server.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL) and starts it again on the same port and data directory.
    pub fn restart(&mut self) {
        self.stop();
        let child =
            spawn(&self.dir, self.port, &self.extra, self.tls).unwrap_or_else(|e| panic!("{e}"));
        self.child = Some(child);
    }

    /// Kills the server.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; bind promptly).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn spawn(dir: &tempfile::TempDir, port: u16, extra: &[String], tls: bool) -> Result<Child, String> {
    let bin = redis_server_binary();
    // A (empty) config file lets Sentinel's `CONFIG REWRITE` succeed when it reconfigures us.
    let conf = dir.path().join("redis.conf");
    if !conf.exists() {
        std::fs::write(&conf, "").map_err(|e| format!("writing {}: {e}", conf.display()))?;
    }
    let ports = if tls {
        [
            "--port".to_owned(),
            "0".into(),
            "--tls-port".into(),
            port.to_string(),
        ]
    } else {
        [
            "--port".to_owned(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
        ]
    };
    let mut child = Command::new(&bin)
        .arg(&conf)
        .args(["--bind", "127.0.0.1"])
        .args(ports)
        .args([
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
        .arg("--dir")
        .arg(dir.path())
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start {} ({e}); install redis-server (apt-get install redis-server) or \
                 set FENCELOCK_REDIS_SERVER",
                bin.display()
            )
        })?;
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{} exited at start ({status})", bin.display()));
        }
        // A TLS port cannot answer a plain PING; accepting connections is enough there.
        let ready = if tls {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        } else {
            ping(port)
        };
        if ready {
            return Ok(child);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    Err(format!("{} did not answer on port {port}", bin.display()))
}

/// Whether a plain-text server (or sentinel) on `port` answers `PING`.
pub(crate) fn ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 16];
    s.write_all(b"PING\r\n").is_ok()
        && s.read(&mut buf)
            .map(|n| buf[..n].starts_with(b"+PONG"))
            .unwrap_or(false)
}

/// The redis-cli binary: `$FENCELOCK_REDIS_CLI`, else `redis-cli` on `PATH`.
pub fn redis_cli_binary() -> PathBuf {
    std::env::var("FENCELOCK_REDIS_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("redis-cli"))
}

/// Runs `redis-cli -p <port> <args>` against a plain-text server and returns its output.
pub fn cli(port: u16, args: &[&str]) -> Result<String, String> {
    cli_with(port, &[], args)
}

/// `redis-server` options that serve `tls`'s certificate (and check clients' when required).
pub(crate) fn server_tls_args(tls: &RedisTls<'_>) -> Vec<String> {
    vec![
        "--tls-cert-file".to_owned(),
        utf8(tls.cert),
        "--tls-key-file".into(),
        utf8(tls.key),
        "--tls-ca-cert-file".into(),
        utf8(tls.ca),
        "--tls-auth-clients".into(),
        if tls.require_client_cert { "yes" } else { "no" }.into(),
    ]
}

fn utf8(p: &std::path::Path) -> String {
    p.to_str().expect("UTF-8 path").to_owned()
}

/// `redis-cli` options for a TLS server whose certificate `tls.ca` signed.
pub fn cli_tls_args(tls: &RedisTls<'_>) -> Vec<String> {
    vec!["--tls".into(), "--cacert".into(), utf8(tls.ca)]
}

/// [`cli`] with connection options first, e.g. from [`cli_tls_args`].
pub fn cli_with(port: u16, options: &[String], args: &[&str]) -> Result<String, String> {
    let bin = redis_cli_binary();
    let out = Command::new(&bin)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(options)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {} ({e}); install redis-tools", bin.display()))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() || text.starts_with("ERR") || text.starts_with("(error)") {
        return Err(format!(
            "redis-cli -p {port} {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(text)
}

/// Polls `check` every 50 ms until it returns `Ok`, or panics with its last error after `secs`.
pub(crate) fn wait_until<T>(
    secs: u64,
    what: &str,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        match check() {
            Ok(v) => return v,
            Err(e) if Instant::now() >= until => panic!("{what} within {secs} s: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
