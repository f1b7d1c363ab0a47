//! SIGTERM lets the request in flight finish, then the server stops accepting.
//! (Its own test binary: the signal goes to the whole test process.)

use std::time::Duration;

use axum::routing::get;
use axum::Router;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_slow_request_still_answers_it() {
    let app = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            "finished"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(platform::serve(
        listener,
        app,
        platform::shutdown_signal(),
        Duration::from_secs(10),
    ));

    let client = reqwest::Client::new();
    let in_flight = tokio::spawn(client.get(format!("http://{addr}/slow")).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "finished");

    let stopped = tokio::time::timeout(Duration::from_secs(5), server).await;
    stopped
        .expect("the server stops after the last request")
        .unwrap()
        .unwrap();
    let after = reqwest::Client::new()
        .get(format!("http://{addr}/slow"))
        .send()
        .await;
    assert!(after.is_err(), "no new connection after shutdown");
}
