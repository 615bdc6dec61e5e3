//! Connecting to NATS with authentication and TLS, and the errors when it is wrong.

mod support;

use fencelock::{Client, ErrorKind};
use support::*;

async fn round_trip(c: &Client) {
    let g = c.acquire("k", Some(ms(2000))).await.unwrap();
    assert!(g.release(Some(b("ok"))).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_authentication() {
    let srv = NatsServer::start_with(&["--auth", "s3cret-token"]);
    let c = Client::nats(&srv.url())
        .namespace("auth")
        .token("s3cret-token")
        .connect()
        .await
        .unwrap();
    round_trip(&c).await;
    let e = Client::nats(&srv.url())
        .token("wrong")
        .connect_timeout(ms(1000))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Backend);
    assert!(e.to_string().contains(&srv.port.to_string()), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_password_authentication() {
    let srv = NatsServer::start_with(&["--user", "locker", "--pass", "pa55"]);
    let c = Client::nats(&srv.url())
        .namespace("auth")
        .user_password("locker", "pa55")
        .connect()
        .await
        .unwrap();
    round_trip(&c).await;
    let e = Client::nats(&srv.url())
        .user_password("locker", "nope")
        .connect_timeout(ms(1000))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Backend);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_creds_file_is_an_invalid_argument_naming_it() {
    let e = Client::nats("nats://127.0.0.1:1")
        .creds_file("/nonexistent/fencelock.creds")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("fencelock.creds"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_certificate_authority() {
    let certs = fencelock_testkit::TestCerts::generate();
    let (cert, key) = (certs.server_cert(), certs.server_key());
    let srv = NatsServer::start_with(&[
        "--tls",
        "--tlscert",
        cert.to_str().unwrap(),
        "--tlskey",
        key.to_str().unwrap(),
    ]);
    let c = Client::nats(&srv.url())
        .namespace("tls")
        .tls_root_cert(certs.ca())
        .require_tls(true)
        .connect()
        .await
        .unwrap();
    round_trip(&c).await;
    // Without trusting the CA the handshake fails, with an error naming the server.
    let e = Client::nats(&srv.url())
        .require_tls(true)
        .connect_timeout(ms(1000))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Backend);
}
