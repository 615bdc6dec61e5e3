//! `watch`: one line per lock change until interrupted; a server restart or network cut is
//! ridden out by the core (it subscribes again and reports what changed meanwhile).

use crate::duration::human;
use crate::exit::CliResult;
use crate::show::holder_json;
use fencelock::{Client, LockEvent};
use futures::StreamExt;
use serde_json::json;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

pub const HELP: &str = "\
Each line: UTC time, event, key, token and holder. Events: held (already held when watching \
started), acquired, released (also broken or deleted), expired (the holder stopped renewing: \
by the store's clock on Redis, after a full lease without renewal on NATS), taken-over (a new \
holder replaced one whose lease ran out). Renewals and state writes are not shown. With --json \
each line is an object {time, event, key, token, holder, previous}.

Examples:
  fencelock watch nightly-import
  fencelock watch 'jobs/*' --json";

/// `fencelock watch KEY|PREFIX*`
pub async fn watch(client: &Client, pattern: &str, as_json: bool) -> CliResult<i32> {
    let (prefix, exact) = match pattern.strip_suffix('*') {
        Some(p) => (p, false),
        None => (pattern, true),
    };
    let mut events = client.lock_events(prefix).await?;
    let mut interrupted = Box::pin(tokio::signal::ctrl_c());
    loop {
        let ev = tokio::select! {
            ev = events.next() => ev,
            _ = &mut interrupted => return Ok(0),
        };
        let Some(ev) = ev else { return Ok(0) };
        let ev = ev?;
        if exact && ev.key != prefix {
            continue;
        }
        let line = if as_json {
            json_line(&ev)
        } else {
            text_line(&ev)
        };
        let mut out = std::io::stdout().lock();
        // A closed pipe (`| head`) ends the watch quietly.
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return Ok(0);
        }
    }
}

fn now_utc() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, dd) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn text_line(ev: &LockEvent) -> String {
    let mut s = format!("{} {:<10} {}", now_utc(), ev.kind.as_str(), ev.key);
    if let Some(h) = &ev.holder {
        s.push_str(&format!(
            " token={} holder={:?} lease={}",
            h.token,
            h.label,
            human(h.lease)
        ));
    }
    if let Some(p) = &ev.previous {
        s.push_str(&format!(
            " previous={:?} previous_token={}",
            p.label, p.token
        ));
    }
    s
}

fn json_line(ev: &LockEvent) -> String {
    json!({
        "time": now_utc(),
        "event": ev.kind.as_str(),
        "key": ev.key,
        "token": ev.holder.as_ref().map(|h| h.token),
        "holder": ev.holder.as_ref().map(holder_json),
        "previous": ev.previous.as_ref().map(holder_json),
        "revision": ev.revision,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn dates_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_422), (2025, 11, 30));
    }
}
