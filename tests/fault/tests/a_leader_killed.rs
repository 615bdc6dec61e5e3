//! (a) The R3 stream leader killed with SIGKILL and restarted, again and again, while three
//! clients acquire, put, release, run with_lock, wait and campaign on one key.

mod common;

use common::{nats_scenario, sleep_until, stream};
use fencelock_fault_tests::workload::Mix;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_leader_killed_and_restarted_during_operations() {
    let ns = "fault_a";
    let v = nats_scenario(
        "a: R3 stream leader SIGKILL + restart",
        ns,
        3,
        Mix::all(Duration::from_secs(1)),
        Duration::from_secs(25),
        move |c, _, until| {
            let mut faults = 0;
            std::thread::sleep(Duration::from_secs(2));
            while Instant::now() + Duration::from_secs(8) < until {
                let leader = c
                    .wait_stream_leader(&stream(ns), Duration::from_secs(15))
                    .expect("a stream leader");
                c.kill(leader);
                faults += 1;
                std::thread::sleep(Duration::from_millis(1500));
                c.restart(leader).expect("the killed leader comes back");
                std::thread::sleep(Duration::from_secs(2));
            }
            sleep_until(until);
            faults
        },
    )
    .await;
    assert!(v.is_empty(), "{v:?}");
}
