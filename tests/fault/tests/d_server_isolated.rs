//! (d) One server cut off from the other two (both directions of its routes partitioned), the
//! stream leader first and then a follower; its clients stay connected to it.

mod common;

use common::{nats_scenario, sleep_until, stream};
use fencelock_fault_tests::workload::Mix;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow (about 40 s): make test-faults"]
async fn one_server_cut_off_from_the_other_two() {
    let ns = "fault_d";
    let v = nats_scenario(
        "d: one server partitioned from two",
        ns,
        3,
        Mix::all(Duration::from_secs(1)),
        Duration::from_secs(30),
        move |c, _, until| {
            let mut faults = 0;
            std::thread::sleep(Duration::from_secs(2));
            let mut leader_turn = true;
            while Instant::now() + Duration::from_secs(10) < until {
                let leader = c
                    .wait_stream_leader(&stream(ns), Duration::from_secs(15))
                    .expect("a stream leader");
                let victim = if leader_turn {
                    leader
                } else {
                    (leader + 1) % 3
                };
                leader_turn = !leader_turn;
                c.isolate(victim);
                faults += 1;
                std::thread::sleep(Duration::from_secs(5));
                c.heal_all();
                c.wait_ready().expect("the cluster heals");
                std::thread::sleep(Duration::from_secs(2));
            }
            sleep_until(until);
            faults
        },
    )
    .await;
    assert!(v.is_empty(), "{v:?}");
}
