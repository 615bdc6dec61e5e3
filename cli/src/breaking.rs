//! `break`: free a stuck lock on purpose. Without `--force` only a lock whose lease has lapsed
//! is freed; with it, the holder is shown and the operator asked first (`--yes` for scripts).
//! Either way the state is kept and the next holder's fencing token is greater than the broken
//! holder's, so a resource that checks tokens refuses the old holder's late writes.

use crate::duration::human;
use crate::exit::{CliResult, Exit, Failure};
use fencelock::{Client, ErrorKind, Holder, LockOptions};
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

pub const HELP: &str = "\
Without --force, the lock is freed only if its lease has lapsed. Where the store's clock \
decides (Redis; NATS 2.11 and later) a lock whose lease still runs is refused at once, and one \
whose lease ended already reads as free. Clock-free NATS (older servers, or the clock-free \
option) keeps no lease time, so fencelock watches the entry for up to one lease: a holder that \
renews in that time is alive (refused, exit 73); one that does not is taken over and freed.

With --force the holder is shown and you are asked to confirm (--yes skips the question; \
without a terminal --yes is required). The holder's next renewal fails and its command (for \
`fencelock run`) is stopped. The state is kept; the next holder's fencing token is higher.";

/// Extra time on top of a lease before deciding its holder stopped renewing.
const OBSERVE_MARGIN: Duration = Duration::from_millis(500);

pub async fn run(client: &Client, key: &str, force: bool, yes: bool) -> CliResult<i32> {
    let info = client.get(key).await?;
    let Some(holder) = info.holder else {
        eprintln!("fencelock: {key:?} is not locked; nothing to break");
        return Ok(0);
    };
    if force {
        return forced(client, key, &holder, yes).await;
    }
    if let Some(left) = info.lease_remaining {
        return Err(refusal(
            key,
            &holder,
            &format!("its lease has {} left", human(left)),
        ));
    }
    let wait = holder.lease + OBSERVE_MARGIN;
    eprintln!(
        "fencelock: {key:?} is held by {:?} (token {}); watching for up to {} whether it renews",
        holder.label,
        holder.token,
        human(wait)
    );
    // The core takes a lock over only after seeing its holder silent for a full lease; taking
    // it and releasing it frees the lock with a fresh, higher token.
    let opts = LockOptions::timeout(wait)
        .with_lease(holder.lease)
        .with_renew(false)
        .with_label("fencelock break");
    match client.acquire_with(key, &opts).await {
        Ok(g) => {
            g.release(None).await?;
            println!(
                "broke {key:?}: the lease of {:?} (token {}) had lapsed; the lock is free",
                holder.label, holder.token
            );
            Ok(0)
        }
        Err(e) if e.kind() == ErrorKind::Timeout => {
            let now = client.get(key).await?.holder;
            let why = match now {
                Some(h) if h.lock_id == holder.lock_id => "it renewed its lease while watched",
                Some(_) => "another holder took it meanwhile",
                None => "it was freed and taken again meanwhile",
            };
            Err(refusal(key, &holder, why))
        }
        Err(e) => Err(e.into()),
    }
}

fn refusal(key: &str, h: &Holder, why: &str) -> Failure {
    Failure::new(
        Exit::Held,
        format!(
            "refusing to break {key:?}: it is held by {:?} (token {}) and {why}. Stop that \
             holder, or break it anyway with `fencelock break --force {key}`",
            h.label, h.token
        ),
    )
}

async fn forced(client: &Client, key: &str, holder: &Holder, yes: bool) -> CliResult<i32> {
    eprintln!(
        "{key:?} is held by {:?}\n  token {}, lock id {}, lease {}",
        holder.label,
        holder.token,
        holder.lock_id,
        human(holder.lease)
    );
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::new(
                Exit::Usage,
                "break --force asks for confirmation, but standard input is not a terminal; \
                 pass --yes to confirm from a script",
            ));
        }
        eprint!("Break this lock? Its holder will lose it. [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            eprintln!("fencelock: not broken");
            return Ok(Exit::Declined as i32);
        }
    }
    match client.break_lock(key).await? {
        Some(h) if h.lock_id == holder.lock_id => {
            println!(
                "broke {key:?}: {:?} (token {}) lost the lock",
                h.label, h.token
            );
            Ok(0)
        }
        // Someone else got it between the question and the break: that is not what the
        // operator confirmed, but it is done; say so.
        Some(h) => {
            println!(
                "broke {key:?}: it had changed hands meanwhile; {:?} (token {}) lost the lock",
                h.label, h.token
            );
            Ok(0)
        }
        None => {
            println!("{key:?} was freed meanwhile; nothing to break");
            Ok(0)
        }
    }
}
