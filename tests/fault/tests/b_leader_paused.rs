//! (b) The R3 stream leader paused (SIGSTOP) for longer than a lease, twice: the other two
//! elect a new leader, the frozen one comes back as a follower with stale state.

mod common;

use common::{nats_scenario, sleep_until, stream};
use fencelock_fault_tests::workload::Mix;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow (about 35 s): make test-faults"]
async fn stream_leader_paused_longer_than_a_lease() {
    let ns = "fault_b";
    let lease = Duration::from_secs(1);
    let v = nats_scenario(
        "b: R3 stream leader SIGSTOP > lease",
        ns,
        3,
        Mix::all(lease),
        Duration::from_secs(25),
        move |c, _, until| {
            let mut faults = 0;
            std::thread::sleep(Duration::from_secs(2));
            while Instant::now() + Duration::from_secs(8) < until {
                let leader = c
                    .wait_stream_leader(&stream(ns), Duration::from_secs(15))
                    .expect("a stream leader");
                c.pause(leader);
                faults += 1;
                std::thread::sleep(lease * 3);
                c.resume(leader);
                std::thread::sleep(Duration::from_secs(3));
            }
            sleep_until(until);
            faults
        },
    )
    .await;
    assert!(v.is_empty(), "{v:?}");
}
