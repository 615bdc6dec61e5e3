//! fencelock-soak: lock churn in every binding on every backend, each row in a process of its
//! own, reporting RSS at 10 % and at 100 % of the row's cycles. Memory that grows between the
//! two marks is a leak (or an unbounded cache): the target is at most 4 MiB in every row.
//!
//! ```text
//! cargo run --release -p fencelock-soak -- [--cycles N] [--only rust,python-sync,...]
//!     [--backend memory,nats,redis] [--check]
//! fencelock-soak worker MODE URL CYCLES NAMESPACE      (one Rust row; used by the above)
//! ```
//!
//! `make soak` builds the workers of the bindings first (see `soak/README.md`).

mod rows;
mod rss;
mod workload;

use std::process::ExitCode;

const USAGE: &str =
    "usage: fencelock-soak [--cycles N] [--only ROW,...] [--backend memory,nats,redis] [--check]
  --cycles   lock cycles per row (default 200000; the churn rows scale from it)
  --only     rows to run: rust, python-sync, python-asyncio, node, c, go, held-churn, client-churn
  --backend  backends to run them on (default all three; servers are started on loopback)
  --check    exit with status 1 when a row grows by more than the target (4 MiB)
       fencelock-soak worker mixed|held-churn|client-churn URL CYCLES NAMESPACE";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("worker") {
        return worker(&args[1..]);
    }
    match rows::Args::parse(&args) {
        Ok(a) => rows::run(&a),
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn worker(args: &[String]) -> ExitCode {
    let [mode, url, cycles, ns] = args else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let Ok(cycles) = cycles.parse::<u64>() else {
        eprintln!("CYCLES must be a number, not {cycles:?}");
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(workload::run(mode, url, ns, cycles)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("soak worker {mode} on {url} failed: {e}");
            ExitCode::FAILURE
        }
    }
}
