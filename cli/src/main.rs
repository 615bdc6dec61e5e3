//! `fencelock`: run a command under a distributed lock, elect a leader, and inspect, watch or
//! break locks from a shell. Every lock operation goes through the fencelock core; this crate
//! parses arguments, prints and supervises child processes.

mod breaking;
mod duration;
mod exit;
mod show;
mod state;
mod supervise;
mod watch;

use clap::{Args, Parser, Subcommand};
use exit::{CliResult, Exit, Failure};
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "fencelock",
    version,
    about = "Distributed locks with fencing tokens, from the shell",
    long_about = "Distributed locks with fencing tokens, from the shell: run a command under a \
                  lock or only while leader, see who holds what, watch changes, break a stuck \
                  lock, read and write a lock's state. Works with every fencelock backend \
                  (NATS JetStream KV, Redis) and interoperates with programs using the \
                  libraries.",
    after_help = exit::TABLE
)]
struct Cli {
    /// Backend URL: nats://host:4222 (several comma-separated for a cluster),
    /// redis://host:6379, rediss://, redis+sentinel://, redis+cluster://; memory:// only lives
    /// inside this process.
    #[arg(
        long,
        env = "FENCELOCK_URL",
        default_value = "nats://127.0.0.1:4222",
        global = true
    )]
    url: String,
    /// Namespace: the NATS KV bucket or Redis key prefix holding the locks.
    #[arg(
        long,
        env = "FENCELOCK_NAMESPACE",
        default_value = "fencelock",
        global = true
    )]
    namespace: String,
    /// How long to try connecting.
    #[arg(long, default_value = "5s", value_parser = duration::parse, global = true)]
    connect_timeout: Duration,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a command while holding KEY; the lock is renewed while it runs.
    #[command(after_help = supervise::RUN_HELP)]
    Run(RunArgs),
    /// Run a command only while leader of election NAME.
    #[command(after_help = supervise::ELECT_HELP)]
    Elect(ElectArgs),
    /// List keys (optionally only those starting with PREFIX) with holder, token, lease and
    /// state size.
    Ls(LsArgs),
    /// Show one key: holder, token, lease remaining, state size.
    Get(GetArgs),
    /// Print lock changes (held, acquired, released, expired, taken-over) as they happen,
    /// one line each, until interrupted.
    #[command(after_help = watch::HELP)]
    Watch(WatchArgs),
    /// Free a stuck lock: refused while its lease is alive unless --force.
    #[command(after_help = breaking::HELP)]
    Break(BreakArgs),
    /// Read a key's state, or write it under the lock.
    #[command(subcommand)]
    State(StateCommand),
}

#[derive(Args, Debug)]
struct Supervision {
    /// How long to wait for the lock (e.g. 30s); 0 tries once; default: wait forever.
    #[arg(long, value_parser = duration::parse)]
    timeout: Option<Duration>,
    /// Lease of the lock (renewed at a third of it while the command runs); default: 30s.
    #[arg(long, value_parser = duration::parse)]
    lease: Option<Duration>,
    /// After the lock is lost: time between SIGTERM and SIGKILL to the command.
    #[arg(long, default_value = "10s", value_parser = duration::parse)]
    grace: Duration,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<String>,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The lock's key.
    key: String,
    /// Holder label shown to operators; default: host, pid and command.
    #[arg(long)]
    label: Option<String>,
    #[command(flatten)]
    run: Supervision,
}

#[derive(Args, Debug)]
struct ElectArgs {
    /// The election's name (a key).
    name: String,
    /// This candidate's label, shown as the leader; default: host, pid and command.
    #[arg(long)]
    candidate: Option<String>,
    #[command(flatten)]
    run: Supervision,
}

#[derive(Args, Debug)]
struct LsArgs {
    /// Only keys starting with this.
    #[arg(default_value = "")]
    prefix: String,
    /// One JSON array, stable for scripts.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct GetArgs {
    key: String,
    /// One JSON object, stable for scripts.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct WatchArgs {
    /// A key, or a prefix ending in `*` (e.g. `jobs/*`); default: every key.
    #[arg(default_value = "*")]
    pattern: String,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct BreakArgs {
    key: String,
    /// Break even though the holder's lease is alive (shows the holder and asks first).
    #[arg(long)]
    force: bool,
    /// Do not ask for confirmation (for scripts; with --force).
    #[arg(long)]
    yes: bool,
}

#[derive(Subcommand, Debug)]
enum StateCommand {
    /// Print the state: raw bytes, or with --json checked and pretty-printed.
    Get {
        key: String,
        /// The state is JSON: check it and print it indented (`null` when there is none).
        #[arg(long)]
        json: bool,
    },
    /// Write the state under the lock: waits for the lock, writes, releases.
    Set {
        key: String,
        /// The new state; `-` or nothing reads standard input.
        value: Option<String>,
        /// Check that the value is JSON before writing.
        #[arg(long)]
        json: bool,
        /// Remove the state instead.
        #[arg(long, conflicts_with = "value")]
        clear: bool,
        /// How long to wait for the lock.
        #[arg(long, default_value = "10s", value_parser = duration::parse)]
        timeout: Duration,
    },
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() {
                Exit::Usage as i32
            } else {
                0
            });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fencelock: cannot start: {e}");
            std::process::exit(Exit::Internal as i32);
        }
    };
    let code = runtime.block_on(async move {
        match dispatch(cli).await {
            Ok(code) => code,
            Err(f) => {
                eprintln!("fencelock: {}", f.message);
                f.exit as i32
            }
        }
    });
    // Background tasks (feeds, keepers) must not delay the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    std::process::exit(code);
}

async fn connect(cli: &Cli) -> CliResult<fencelock::Client> {
    fencelock::Client::builder(&cli.url)
        .namespace(cli.namespace.clone())
        .connect_timeout(cli.connect_timeout)
        .connect()
        .await
        .map_err(|e| {
            let exit = Exit::of(&e);
            let hint = if exit == Exit::Backend {
                " (check --url / FENCELOCK_URL and that the server is running)"
            } else {
                ""
            };
            Failure::new(exit, format!("cannot connect to {}: {e}{hint}", cli.url))
        })
}

/// Runs the command; `Ok` carries the exit code.
async fn dispatch(cli: Cli) -> CliResult<i32> {
    let client = connect(&cli).await?;
    let out = match cli.command {
        Command::Run(a) => supervise::run(&client, &a.key, a.label, &a.run).await,
        Command::Elect(a) => supervise::elect(&client, &a.name, a.candidate, &a.run).await,
        Command::Ls(a) => show::ls(&client, &a.prefix, a.json).await,
        Command::Get(a) => show::get(&client, &a.key, a.json).await,
        Command::Watch(a) => watch::watch(&client, &a.pattern, a.json).await,
        Command::Break(a) => breaking::run(&client, &a.key, a.force, a.yes).await,
        Command::State(StateCommand::Get { key, json }) => state::get(&client, &key, json).await,
        Command::State(StateCommand::Set {
            key,
            value,
            json,
            clear,
            timeout,
        }) => state::set(&client, &key, value, json, clear, timeout).await,
    };
    client.close().await;
    out
}
