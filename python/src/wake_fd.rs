//! The descriptor an asyncio loop watches to learn that operations were woken
//! (`loop_driver.rs`). On Linux an eventfd: a kernel counter, so a nudge is one 8-byte write
//! and the drain one read, without a socket pair's buffer bookkeeping on either side (both
//! sides sit on the path of every awaited operation). Elsewhere a Unix socket pair.

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;

pub struct WakeFd {
    /// The end the loop watches and drains.
    rx: File,
    /// The end nudges write to (the same descriptor for an eventfd).
    tx: Arc<File>,
}

impl WakeFd {
    pub fn new() -> io::Result<Self> {
        let (rx, tx) = open()?;
        Ok(WakeFd {
            rx,
            tx: Arc::new(tx),
        })
    }

    /// What to pass to `loop.add_reader`.
    pub fn raw_fd(&self) -> RawFd {
        self.rx.as_raw_fd()
    }

    /// A nudge callable from any thread; never blocks.
    pub fn notifier(&self) -> impl Fn() + Send + Sync + 'static {
        let tx = self.tx.clone();
        move || {
            // A full counter or buffer means a wake-up is already pending: nothing to add.
            let _ = (&*tx).write(&1u64.to_ne_bytes());
        }
    }

    /// Consumes the pending nudges so the loop stops reporting the descriptor readable.
    pub fn drain(&self) {
        let mut buf = [0u8; 64];
        loop {
            match (&self.rx).read(&mut buf) {
                // An eventfd hands over its whole count in one 8-byte read; a socket pair
                // may need more reads when many nudges piled up.
                Ok(n) if n == buf.len() => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                _ => return,
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn open() -> io::Result<(File, File)> {
    use std::os::fd::FromRawFd;
    // SAFETY: eventfd takes no pointers; the descriptor it returns is owned by the File.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    let rx = unsafe { File::from_raw_fd(fd) };
    let tx = rx.try_clone()?;
    Ok((rx, tx))
}

#[cfg(not(target_os = "linux"))]
fn open() -> io::Result<(File, File)> {
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;
    let (rx, tx) = UnixStream::pair()?;
    rx.set_nonblocking(true)?;
    tx.set_nonblocking(true)?;
    Ok((File::from(OwnedFd::from(rx)), File::from(OwnedFd::from(tx))))
}
