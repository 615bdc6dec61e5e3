//! Starts the pinned nats-server (from `.venv`, or `$FENCELOCK_NATS_SERVER`) on a free
//! loopback port with JetStream in a temporary directory, and stops it on drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct NatsServer {
    child: Child,
    port: u16,
    pub version: String,
    _store: tempfile::TempDir,
}

impl NatsServer {
    pub fn start() -> Result<NatsServer, String> {
        let bin = std::env::var("FENCELOCK_NATS_SERVER")
            .unwrap_or_else(|_| ".venv/bin/nats-server".into());
        let store = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut child = Command::new(&bin)
            .args(["-a", "127.0.0.1", "-p", "-1", "-js", "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {bin} ({e}); run `make setup` first"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let (mut port, mut version) = (None, String::new());
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(v) = line.split("Version:  ").nth(1) {
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
            Ok((Some(port), version)) => Ok(NatsServer {
                child,
                port,
                version,
                _store: store,
            }),
            _ => {
                let _ = child.kill();
                Err(format!("{bin} did not become ready"))
            }
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
