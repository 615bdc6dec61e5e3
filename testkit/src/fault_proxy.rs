//! A TCP proxy on a free loopback port that forwards to one target and can break the link on
//! command: the fault suite puts one in front of every client connection and cluster route so a
//! test can partition, black-hole, slow down or cut any single link without root or `tc`.
//!
//! The proxy runs its own small tokio runtime on a background thread, so tests with or without
//! a runtime can drive it with plain method calls.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the link does with connections and bytes right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkMode {
    /// Forward bytes both ways.
    Pass,
    /// Keep connections open (and accept new ones) but drop every byte silently, like a
    /// firewall that discards packets: peers notice only through their own timeouts.
    BlackHole,
    /// Forward, waiting this long before passing on each chunk read.
    Delay(Duration),
    /// Close every connection and close new ones at once, like a refusing firewall.
    Partitioned,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Control {
    mode: LinkMode,
    /// Bumped by [`FaultProxy::cut`]: connections opened under an older generation close.
    generation: u64,
}

/// A proxy listening on `127.0.0.1:<port>` that forwards to a target; stopped on drop.
pub struct FaultProxy {
    /// The proxy's own port on 127.0.0.1 (connect here instead of the target).
    pub port: u16,
    target: SocketAddr,
    control: watch::Sender<Control>,
    open: Arc<AtomicUsize>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port forwarding to `target`, in [`LinkMode::Pass`].
    pub fn start(target: SocketAddr) -> FaultProxy {
        Self::try_start(target).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts a proxy forwarding to `127.0.0.1:<port>`.
    pub fn to_port(port: u16) -> FaultProxy {
        Self::start(SocketAddr::from(([127, 0, 0, 1], port)))
    }

    /// [`FaultProxy::start`] that reports instead of panicking.
    pub fn try_start(target: SocketAddr) -> Result<FaultProxy, String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("binding a loopback port for a fault proxy: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let (control, watch_rx) = watch::channel(Control {
            mode: LinkMode::Pass,
            generation: 0,
        });
        let open = Arc::new(AtomicUsize::new(0));
        let (shutdown, stop_rx) = tokio::sync::oneshot::channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("runtime for a fault proxy: {e}"))?;
        let counter = open.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{port}"))
            .spawn(move || {
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("tokio listener");
                    tokio::select! {
                        _ = accept_loop(listener, target, watch_rx, counter) => {}
                        _ = stop_rx => {}
                    }
                });
                // Dropping the runtime aborts every connection task, closing their sockets.
            })
            .map_err(|e| format!("thread for a fault proxy: {e}"))?;
        Ok(FaultProxy {
            port,
            target,
            control,
            open,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `127.0.0.1:<port>` of the proxy.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Where the proxy forwards to.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// The current mode.
    pub fn mode(&self) -> LinkMode {
        self.control.borrow().mode
    }

    /// Connections currently forwarded (or held in a black hole).
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    fn set(&self, mode: LinkMode, cut: bool) {
        self.control.send_modify(|c| {
            c.mode = mode;
            if cut {
                c.generation += 1;
            }
        });
    }

    /// Forwards again (heals a partition, black hole or delay); connections survive.
    pub fn pass(&self) {
        self.set(LinkMode::Pass, false);
    }

    /// Closes every open connection; new ones are forwarded (a peer that reconnects succeeds).
    pub fn cut(&self) {
        let mode = self.mode();
        let mode = if mode == LinkMode::Partitioned {
            LinkMode::Pass
        } else {
            mode
        };
        self.set(mode, true);
    }

    /// Drops every byte from now on but keeps connections open and accepts new ones.
    pub fn black_hole(&self) {
        self.set(LinkMode::BlackHole, false);
    }

    /// Delays each chunk by `delay` in both directions.
    pub fn delay(&self, delay: Duration) {
        self.set(LinkMode::Delay(delay), false);
    }

    /// Closes every connection and refuses new ones until [`FaultProxy::heal`].
    pub fn partition(&self) {
        self.set(LinkMode::Partitioned, true);
    }

    /// Same as [`FaultProxy::pass`]: the link forwards again.
    pub fn heal(&self) {
        self.pass();
    }

    /// Partitions now and heals after `after` (a timer thread flips the mode back).
    pub fn partition_then_heal(&self, after: Duration) {
        self.partition();
        let control = self.control.clone();
        std::thread::spawn(move || {
            std::thread::sleep(after);
            control.send_modify(|c| {
                if c.mode == LinkMode::Partitioned {
                    c.mode = LinkMode::Pass;
                }
            });
        });
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    control: watch::Receiver<Control>,
    open: Arc<AtomicUsize>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // Out of descriptors or similar: wait instead of spinning.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let now = *control.borrow();
        if now.mode == LinkMode::Partitioned {
            drop(client);
            continue;
        }
        let control = control.clone();
        let open = open.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(target).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            open.fetch_add(1, Ordering::SeqCst);
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            // Either direction ending (EOF, error, cut) ends both: the proxy closes the pair.
            tokio::select! {
                _ = pump(cr, sw, control.clone(), now.generation) => {}
                _ = pump(sr, cw, control, now.generation) => {}
            }
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Copies `from` to `to` chunk by chunk, applying the mode current when each chunk arrives.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut control: watch::Receiver<Control>,
    generation: u64,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = control.changed() => {
                if changed.is_err() || control.borrow().generation != generation {
                    return;
                }
                continue;
            }
        };
        let now = *control.borrow();
        if now.generation != generation {
            return;
        }
        match now.mode {
            LinkMode::Pass => {}
            LinkMode::Delay(d) => tokio::time::sleep(d).await,
            LinkMode::BlackHole => continue,
            LinkMode::Partitioned => return,
        }
        if control.borrow().generation != generation || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream as StdStream;
    use std::time::Instant;

    /// An echo server on a free port, on its own thread.
    fn echo_server() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in l.incoming().map_while(Result::ok) {
                std::thread::spawn(move || {
                    let mut s = s;
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 || s.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        port
    }

    fn connect(p: &FaultProxy) -> StdStream {
        let s = StdStream::connect(p.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(400)))
            .unwrap();
        s
    }

    /// Sends `msg` and returns what came back: `Ok(bytes)`, `Err("eof")` or `Err("timeout")`.
    fn echo(s: &mut StdStream, msg: &[u8]) -> Result<Vec<u8>, &'static str> {
        if s.write_all(msg).is_err() {
            return Err("eof");
        }
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while got.len() < msg.len() {
            match s.read(&mut buf) {
                Ok(0) => return Err("eof"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err("timeout")
                }
                Err(_) => return Err("eof"),
            }
        }
        Ok(got)
    }

    fn wait_for(what: &str, f: impl Fn() -> bool) {
        let until = Instant::now() + Duration::from_secs(5);
        while !f() {
            assert!(Instant::now() < until, "{what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn passes_bytes_both_ways() {
        let p = FaultProxy::to_port(echo_server());
        let mut s = connect(&p);
        assert_eq!(echo(&mut s, b"hello").unwrap(), b"hello");
        wait_for("one open connection", || p.open_connections() == 1);
    }

    #[test]
    fn cut_closes_open_connections_and_new_ones_pass() {
        let p = FaultProxy::to_port(echo_server());
        let mut s = connect(&p);
        assert_eq!(echo(&mut s, b"a").unwrap(), b"a");
        p.cut();
        assert_eq!(echo(&mut s, b"b"), Err("eof"));
        let mut fresh = connect(&p);
        assert_eq!(echo(&mut fresh, b"c").unwrap(), b"c");
    }

    #[test]
    fn black_hole_keeps_the_connection_but_drops_bytes_until_healed() {
        let p = FaultProxy::to_port(echo_server());
        let mut s = connect(&p);
        assert_eq!(echo(&mut s, b"a").unwrap(), b"a");
        p.black_hole();
        assert_eq!(echo(&mut s, b"lost"), Err("timeout"));
        // New connections are accepted and black-holed too.
        let mut other = connect(&p);
        assert_eq!(echo(&mut other, b"x"), Err("timeout"));
        p.pass();
        // The same connection carries bytes again; what was dropped stays dropped.
        assert_eq!(echo(&mut s, b"back").unwrap(), b"back");
    }

    #[test]
    fn delay_holds_each_chunk() {
        let p = FaultProxy::to_port(echo_server());
        let mut s = connect(&p);
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let t = Instant::now();
        assert_eq!(echo(&mut s, b"fast").unwrap(), b"fast");
        let fast = t.elapsed();
        p.delay(Duration::from_millis(150));
        let t = Instant::now();
        assert_eq!(echo(&mut s, b"slow").unwrap(), b"slow");
        // One delay on the way there and one on the way back.
        assert!(
            t.elapsed() >= Duration::from_millis(300),
            "{:?}",
            t.elapsed()
        );
        assert!(fast < Duration::from_millis(150), "{fast:?}");
    }

    #[test]
    fn partition_closes_and_refuses_until_healed() {
        let p = FaultProxy::to_port(echo_server());
        let mut s = connect(&p);
        assert_eq!(echo(&mut s, b"a").unwrap(), b"a");
        p.partition();
        assert_eq!(echo(&mut s, b"b"), Err("eof"));
        let mut refused = connect(&p);
        assert_eq!(echo(&mut refused, b"c"), Err("eof"));
        p.heal();
        let mut healed = connect(&p);
        assert_eq!(echo(&mut healed, b"d").unwrap(), b"d");
    }

    #[test]
    fn partition_then_heal_heals_by_itself() {
        let p = FaultProxy::to_port(echo_server());
        p.partition_then_heal(Duration::from_millis(200));
        let mut refused = connect(&p);
        assert_eq!(echo(&mut refused, b"c"), Err("eof"));
        wait_for("the link to heal", || p.mode() == LinkMode::Pass);
        let mut healed = connect(&p);
        assert_eq!(echo(&mut healed, b"d").unwrap(), b"d");
    }

    #[test]
    fn drop_closes_connections() {
        let p = FaultProxy::to_port(echo_server());
        let mut s = connect(&p);
        assert_eq!(echo(&mut s, b"a").unwrap(), b"a");
        drop(p);
        assert_eq!(echo(&mut s, b"b"), Err("eof"));
    }
}
