//! Leader election (natslock's AcquireLead / ReleaseLead).

mod support;

use futures::StreamExt;
use support::*;

conformance!(
    one_leader_at_a_time_and_the_next_takes_over_on_resign,
    a_leader_that_loses_its_key_is_told,
);

async fn one_leader_at_a_time_and_the_next_takes_over_on_resign(fx: Fixture) {
    let a = client(&fx, "elect").await;
    let bc = client(&fx, "elect").await;
    let lead_a = a.campaign("reconciler", "node-a", None).await.unwrap();
    assert!(lead_a.is_leader());
    assert!(bc
        .try_campaign("reconciler", "node-b")
        .await
        .unwrap()
        .is_none());
    let leader = bc.leader("reconciler").await.unwrap().unwrap();
    assert_eq!(leader.label, "node-a");
    assert_eq!(leader.token, lead_a.term());

    let mut changes = bc.observe_leader("reconciler").await.unwrap();
    assert_eq!(changes.next().await.unwrap().unwrap().label, "node-a");
    let b2 = bc.clone();
    let campaign_b =
        tokio::spawn(async move { b2.campaign("reconciler", "node-b", Some(ms(5000))).await });
    tokio::time::sleep(ms(100)).await;
    let term_a = lead_a.term();
    assert!(lead_a.resign().await.unwrap());
    let lead_b = campaign_b.await.unwrap().unwrap();
    assert!(lead_b.term() > term_a);
    // The observer saw the handover (possibly via a moment with no leader).
    loop {
        let h = tokio::time::timeout(ms(3000), changes.next())
            .await
            .unwrap()
            .unwrap();
        if let Some(h) = h {
            assert_eq!(h.label, "node-b");
            break;
        }
    }
}

async fn a_leader_that_loses_its_key_is_told(fx: Fixture) {
    let a = builder(&fx, "elect")
        .lease(ms(300))
        .connect()
        .await
        .unwrap();
    let lead = a.campaign("reconciler", "node-a", None).await.unwrap();
    a.delete("reconciler").await.unwrap();
    tokio::time::timeout(ms(3000), lead.lost())
        .await
        .expect("loss is signalled");
    assert!(!lead.is_leader());
}
