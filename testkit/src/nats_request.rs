//! One blocking request over the NATS text protocol, for readiness probes of the testkit's
//! servers and for fault tests that act as an operator (deleting a stream): it keeps the
//! testkit free of an async runtime and of a client library.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const INBOX: &str = "_INBOX.fencelock_testkit_probe";

/// Sends `payload` to `subject` on the server at 127.0.0.1:`port` and returns the reply's body.
pub fn request(
    port: u16,
    subject: &str,
    payload: &str,
    timeout: Duration,
) -> Result<String, String> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .map_err(|e| format!("connecting to 127.0.0.1:{port}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("no INFO from 127.0.0.1:{port}: {e}"))?;
    if !line.starts_with("INFO ") {
        return Err(format!("127.0.0.1:{port} greeted with {line:?}, not INFO"));
    }
    let out = format!(
        "CONNECT {{\"verbose\":false,\"pedantic\":false}}\r\nSUB {INBOX} 1\r\n\
         PUB {subject} {INBOX} {}\r\n{payload}\r\n",
        payload.len()
    );
    writer
        .write_all(out.as_bytes())
        .map_err(|e| format!("writing to 127.0.0.1:{port}: {e}"))?;
    loop {
        line.clear();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("waiting for the reply to {subject} on 127.0.0.1:{port}: {e}"))?;
        if line.is_empty() {
            return Err(format!("127.0.0.1:{port} closed the connection"));
        }
        let head = line.trim_end();
        if head == "PING" {
            writer.write_all(b"PONG\r\n").map_err(|e| e.to_string())?;
        } else if let Some(err) = head.strip_prefix("-ERR") {
            return Err(format!("127.0.0.1:{port} refused the request: {err}"));
        } else if head.starts_with("MSG ") {
            let len: usize = head
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("malformed {head:?}"))?;
            let mut body = vec![0u8; len + 2];
            reader.read_exact(&mut body).map_err(|e| e.to_string())?;
            body.truncate(len);
            return String::from_utf8(body).map_err(|e| e.to_string());
        }
    }
}
