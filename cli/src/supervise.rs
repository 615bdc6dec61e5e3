//! `run` and `elect`: start a command while holding a lock (or leadership), keep it renewed
//! (the core's lease keeper does), forward signals to the command, and stop the command when
//! the lock is lost: SIGTERM, then SIGKILL after the grace period.

use crate::duration::human;
use crate::exit::{CliResult, Exit, Failure};
use crate::Supervision;
use fencelock::{Client, ErrorKind, LockGuard, LockOptions};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};

pub const RUN_HELP: &str = "\
The command gets FENCELOCK_KEY and FENCELOCK_TOKEN (the fencing token: pass it to the resource \
you protect and have it refuse smaller tokens). SIGINT, SIGTERM and SIGHUP sent to fencelock are \
forwarded to the command's process group (the command runs in a group of its own, so that \
stopping it also stops what it started). If the lock is lost (lease lapsed, broken by an operator), the command \
gets SIGTERM, then SIGKILL after --grace, and fencelock exits with 76. Otherwise fencelock exits \
with the command's status once it has released the lock.

Example:
  fencelock run nightly-import --timeout 0 --lease 1m -- ./import.sh --full";

pub const ELECT_HELP: &str = "\
Campaigns for leadership of NAME (waiting up to --timeout), then runs the command as leader. \
The command gets FENCELOCK_KEY, FENCELOCK_TOKEN (the term: greater than every earlier \
leader's) and FENCELOCK_CANDIDATE. Losing leadership stops the command as `run` does (exit 76); \
when the command ends, fencelock resigns and exits with its status.

Example:
  fencelock elect reconciler --candidate \"$(hostname)\" -- ./reconcile-loop";

/// `fencelock run KEY -- CMD…`
pub async fn run(
    client: &Client,
    key: &str,
    label: Option<String>,
    s: &Supervision,
) -> CliResult<i32> {
    let label = label.unwrap_or_else(|| default_label(&s.command));
    let mut opts = LockOptions::default().with_renew(true).with_label(label);
    opts.timeout = s.timeout;
    opts.lease = s.lease;
    let guard = client
        .acquire_with(key, &opts)
        .await
        .map_err(|e| acquire_failure(key, s.timeout, e))?;
    let env = vec![
        ("FENCELOCK_KEY".to_owned(), key.to_owned()),
        ("FENCELOCK_TOKEN".to_owned(), guard.token().to_string()),
    ];
    let outcome = supervise(&guard, &s.command, s.grace, env).await;
    finish(&guard, outcome).await
}

/// `fencelock elect NAME -- CMD…`
pub async fn elect(
    client: &Client,
    name: &str,
    candidate: Option<String>,
    s: &Supervision,
) -> CliResult<i32> {
    let candidate = candidate.unwrap_or_else(|| default_label(&s.command));
    if s.lease.is_some() {
        // Leadership leases come from the client's default; say so instead of ignoring it.
        return Err(Failure::new(
            Exit::Usage,
            "elect does not take --lease; leadership is renewed for as long as the command runs",
        ));
    }
    let leadership = client
        .campaign(name, &candidate, s.timeout)
        .await
        .map_err(|e| acquire_failure(name, s.timeout, e))?;
    eprintln!(
        "fencelock: leading {name:?} as {candidate:?} (term {})",
        leadership.term()
    );
    let env = vec![
        ("FENCELOCK_KEY".to_owned(), name.to_owned()),
        ("FENCELOCK_TOKEN".to_owned(), leadership.term().to_string()),
        ("FENCELOCK_CANDIDATE".to_owned(), candidate),
    ];
    let outcome = supervise(leadership.guard(), &s.command, s.grace, env).await;
    finish(leadership.guard(), outcome).await
}

fn acquire_failure(key: &str, timeout: Option<Duration>, e: fencelock::Error) -> Failure {
    match e.kind() {
        ErrorKind::Timeout if timeout == Some(Duration::ZERO) => Failure::new(
            Exit::Held,
            format!("{key:?} is held (see `fencelock get {key}`); drop --timeout 0 to wait for it"),
        ),
        ErrorKind::Timeout => Failure::new(
            Exit::Timeout,
            format!(
                "{key:?} was not acquired within {}: someone else holds it (see `fencelock get \
                 {key}`); wait longer with --timeout",
                human(timeout.unwrap_or_default())
            ),
        ),
        _ => e.into(),
    }
}

fn default_label(command: &[String]) -> String {
    let mut cmd = command.join(" ");
    if cmd.len() > 80 {
        let mut end = 77;
        while !cmd.is_char_boundary(end) {
            end -= 1;
        }
        cmd.truncate(end);
        cmd.push_str("...");
    }
    format!("{} pid {}: {cmd}", hostname(), std::process::id())
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

enum Outcome {
    /// The command ended on its own (or after a forwarded signal).
    Exited(ExitStatus),
    /// The lock was lost; the command was stopped.
    Lost,
}

async fn supervise(
    guard: &LockGuard,
    command: &[String],
    grace: Duration,
    env: Vec<(String, String)>,
) -> CliResult<Outcome> {
    let not_started = |e: std::io::Error| {
        Failure::new(
            Exit::CannotRun,
            format!(
                "cannot start {:?}: {e}; check the command name, PATH and permissions (the lock \
                 was released)",
                command[0]
            ),
        )
    };
    let signals = |k: SignalKind| {
        signal(k).map_err(|e| Failure::new(Exit::Internal, format!("cannot handle signals: {e}")))
    };
    let (mut int, mut term, mut hup) = (
        signals(SignalKind::interrupt())?,
        signals(SignalKind::terminate())?,
        signals(SignalKind::hangup())?,
    );
    let mut child = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .envs(env)
        .process_group(0)
        .spawn()
        .map_err(not_started)?;
    let pid = child.id().map(|p| p as libc::pid_t);
    let send = |sig: libc::c_int| {
        if let Some(pid) = pid {
            // The whole group: a shell script's own children must stop too.
            // SAFETY: plain kill(2) on the process group our child leads.
            unsafe { libc::kill(-pid, sig) };
        }
    };
    loop {
        tokio::select! {
            status = child.wait() => {
                let status = status.map_err(|e| Failure::new(
                    Exit::Internal, format!("cannot wait for the command: {e}")))?;
                return Ok(Outcome::Exited(status));
            }
            () = guard.lost() => {
                eprintln!(
                    "fencelock: lost the lock on {:?} (token {}): its lease lapsed or it was \
                     broken; stopping the command (SIGTERM, SIGKILL after {})",
                    guard.key(), guard.token(), human(grace)
                );
                send(libc::SIGTERM);
                if tokio::time::timeout(grace, child.wait()).await.is_err() {
                    eprintln!("fencelock: the command ignored SIGTERM for {}; SIGKILL", human(grace));
                    send(libc::SIGKILL);
                    let _ = child.wait().await;
                }
                return Ok(Outcome::Lost);
            }
            _ = int.recv() => send(libc::SIGINT),
            _ = term.recv() => send(libc::SIGTERM),
            _ = hup.recv() => send(libc::SIGHUP),
        }
    }
}

async fn finish(guard: &LockGuard, outcome: CliResult<Outcome>) -> CliResult<i32> {
    let status = match outcome {
        Ok(Outcome::Exited(status)) => status,
        Ok(Outcome::Lost) => return Ok(Exit::Lost as i32),
        Err(f) => {
            let _ = guard.release(None).await;
            return Err(f);
        }
    };
    match guard.release(None).await {
        Ok(true) => {}
        Ok(false) => {
            eprintln!(
                "fencelock: the command finished, but the lock on {:?} (token {}) had been lost \
                 by then",
                guard.key(),
                guard.token()
            );
            return Ok(Exit::Lost as i32);
        }
        Err(e) => eprintln!("fencelock: releasing {:?} failed: {e}", guard.key()),
    }
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => Exit::Internal as i32,
    })
}
