//! `ls` and `get`: what the store says about keys, as a table for people or JSON for scripts.
//! The JSON field names are part of the CLI's interface: add fields, never rename them.

use crate::duration::human;
use crate::exit::CliResult;
use fencelock::{Client, KeyInfo};
use serde_json::{json, Value};

/// `fencelock ls [PREFIX]`
pub async fn ls(client: &Client, prefix: &str, as_json: bool) -> CliResult<i32> {
    let keys = client.list_keys(prefix).await?;
    let mut rows = Vec::with_capacity(keys.len());
    for key in keys {
        let info = client.get(key.as_str()).await?;
        rows.push((key, info));
    }
    if as_json {
        let arr: Vec<Value> = rows.iter().map(|(k, i)| to_json(k, i)).collect();
        println!("{}", Value::Array(arr));
        return Ok(0);
    }
    if rows.is_empty() {
        eprintln!(
            "no keys{} in namespace",
            if prefix.is_empty() {
                String::new()
            } else {
                format!(" starting with {prefix:?}")
            }
        );
        return Ok(0);
    }
    let table: Vec<[String; 6]> = rows.iter().map(|(k, i)| cells(k, i)).collect();
    print_table(
        &["KEY", "HOLDER", "TOKEN", "LEASE", "REMAINING", "STATE"],
        &table,
    );
    Ok(0)
}

/// `fencelock get KEY`
pub async fn get(client: &Client, key: &str, as_json: bool) -> CliResult<i32> {
    let info = client.get(key).await?;
    if as_json {
        println!("{}", to_json(key, &info));
        return Ok(0);
    }
    let [_, holder, token, lease, remaining, state] = cells(key, &info);
    println!("key:        {key}");
    match &info.holder {
        Some(h) => {
            println!("holder:     {holder}");
            println!("token:      {token}");
            println!("lock id:    {}", h.lock_id);
            println!("lease:      {lease}");
            println!("remaining:  {remaining}");
        }
        None => println!("holder:     - (free)"),
    }
    println!("state:      {state}");
    println!("revision:   {}", info.revision);
    Ok(0)
}

/// One key as JSON: `{key, held, holder: {label, token, lock_id, lease_ms} | null,
/// lease_remaining_ms: n | null, state_bytes, revision}`.
pub fn to_json(key: &str, info: &KeyInfo) -> Value {
    json!({
        "key": key,
        "held": info.holder.is_some(),
        "holder": info.holder.as_ref().map(holder_json),
        "lease_remaining_ms": info.lease_remaining.map(|d| d.as_millis() as u64),
        "state_bytes": info.state.as_ref().map_or(0, |s| s.len()),
        "revision": info.revision,
    })
}

pub fn holder_json(h: &fencelock::Holder) -> Value {
    json!({
        "label": h.label,
        "token": h.token,
        "lock_id": h.lock_id.to_string(),
        "lease_ms": h.lease.as_millis() as u64,
    })
}

fn cells(key: &str, info: &KeyInfo) -> [String; 6] {
    let state = match &info.state {
        None => "-".to_owned(),
        Some(s) => format!("{} B", s.len()),
    };
    match &info.holder {
        None => [
            key.to_owned(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            state,
        ],
        Some(h) => [
            key.to_owned(),
            h.label.clone(),
            h.token.to_string(),
            human(h.lease),
            // Stores that do not expire leases themselves only know a holder is alive when
            // it renews: say so rather than guess from clocks.
            info.lease_remaining
                .map(human)
                .unwrap_or_else(|| "unknown".into()),
            state,
        ],
    }
}

fn print_table(header: &[&str; 6], rows: &[[String; 6]]) {
    let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (c, w)) in cells.iter().zip(&width).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}
