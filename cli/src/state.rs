//! `state get|set`: read a key's state (no lock), or write it under the lock.

use crate::exit::{CliResult, Exit, Failure};
use fencelock::{Bytes, Client, LockOptions};
use std::io::{Read, Write};
use std::time::Duration;

pub async fn get(client: &Client, key: &str, as_json: bool) -> CliResult<i32> {
    let info = client.get(key).await?;
    let mut out = std::io::stdout().lock();
    let written = if as_json {
        let value: serde_json::Value = match &info.state {
            None => serde_json::Value::Null,
            Some(s) => serde_json::from_slice(s).map_err(|e| {
                Failure::new(
                    Exit::Usage,
                    format!(
                        "the state of {key:?} is not JSON ({e}); read it without --json to get \
                         the raw bytes"
                    ),
                )
            })?,
        };
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        writeln!(out, "{text}")
    } else {
        out.write_all(info.state.as_deref().unwrap_or_default())
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| Failure::new(Exit::Internal, format!("cannot write the state: {e}")))?;
    Ok(0)
}

pub async fn set(
    client: &Client,
    key: &str,
    value: Option<String>,
    as_json: bool,
    clear: bool,
    timeout: Duration,
) -> CliResult<i32> {
    let bytes = if clear {
        None
    } else {
        let raw = match value.as_deref() {
            None | Some("-") => {
                let mut buf = Vec::new();
                std::io::stdin().read_to_end(&mut buf).map_err(|e| {
                    Failure::new(Exit::Usage, format!("cannot read standard input: {e}"))
                })?;
                buf
            }
            Some(v) => v.as_bytes().to_vec(),
        };
        if as_json {
            serde_json::from_slice::<serde_json::Value>(&raw).map_err(|e| {
                Failure::new(
                    Exit::Usage,
                    format!(
                        "the new state for {key:?} is not JSON ({e}); fix it, or drop --json to \
                         store bytes as they are"
                    ),
                )
            })?;
        }
        Some(Bytes::from(raw))
    };
    let opts = LockOptions::timeout(timeout).with_label("fencelock state set");
    let guard = client.acquire_with(key, &opts).await?;
    let released = match bytes {
        Some(b) => guard.release(Some(b)).await?,
        None => guard.release_clearing_state().await?,
    };
    if !released {
        return Err(Failure::new(
            Exit::Lost,
            format!("the lock on {key:?} was lost before the state was written; try again"),
        ));
    }
    eprintln!(
        "fencelock: wrote the state of {key:?} (token {})",
        guard.token()
    );
    Ok(0)
}
