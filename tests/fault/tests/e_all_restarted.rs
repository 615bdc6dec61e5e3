//! (e) Every server killed and restarted on its file store while clients keep working: tokens
//! keep increasing across the restart and no acknowledged state is lost.

mod common;

use common::{nats_scenario, sleep_until};
use fencelock_fault_tests::workload::Mix;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_server_restarted_keeps_tokens_and_state() {
    let v = nats_scenario(
        "e: all three servers restarted (file)",
        "fault_e",
        3,
        Mix::all(Duration::from_secs(1)),
        Duration::from_secs(20),
        move |c, _, until| {
            std::thread::sleep(Duration::from_secs(6));
            c.restart_all().expect("the cluster comes back");
            sleep_until(until);
            1
        },
    )
    .await;
    assert!(v.is_empty(), "{v:?}");
}
