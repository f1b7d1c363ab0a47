//! Events reach the Redis Stream through the outbox, also when Redis was down at the
//! time of the run.

mod common;

use std::time::Duration;

use common::*;
use offre_ingestion::ingest::ingest_file;
use offre_ingestion::relay::{self, RelayConfig};
use testkit::{TcpProxy, TestDb};

#[tokio::test]
async fn events_wait_while_redis_is_down_and_are_published_when_it_returns() {
    let db = TestDb::new().await;
    let pool = db.pool().await;
    let files = files();
    let report = ingest_file(&pool, &files.json_lines("o.jsonl", &offers(3)), None, 36500)
        .await
        .unwrap();

    let redis_addr: std::net::SocketAddr = "127.0.0.1:6379".parse().unwrap();
    let proxy = TcpProxy::start(redis_addr).await;
    proxy.set_up(false);
    let env = testkit::env()
        .with("REDIS_URL", format!("redis://{}", proxy.addr))
        .with("RELAY_INTERVAL_MS", "100");
    let config = RelayConfig::from_env(&env).unwrap();
    let stream = format!("{}offers.ingested", config.stream_prefix);
    let relay = relay::spawn(pool.clone(), config).unwrap();

    let pending = "SELECT count(*) FROM offers.outbox WHERE published_at IS NULL";
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        count(&pool, pending).await,
        1,
        "kept while Redis is unreachable"
    );
    let client = redis::Client::open(testkit::redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let length: usize = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(length, 0);

    proxy.set_up(true);
    for _ in 0..150 {
        if count(&pool, pending).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&pool, pending).await,
        0,
        "published once Redis is back"
    );
    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(&stream)
        .arg("-")
        .arg("+")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let fields: std::collections::HashMap<_, _> = entries[0].1.iter().cloned().collect();
    let event: serde_json::Value = serde_json::from_str(&fields["event"]).unwrap();
    assert_eq!(event["run_id"], report.run_id);
    assert_eq!(event["counts"]["new"], 3);
    assert_eq!(
        event["new_ids"],
        serde_json::json!(["T000000", "T000001", "T000002"])
    );
    assert!(fields["outbox_id"].parse::<i64>().is_ok());
    relay.abort();
    let _: () = redis::cmd("DEL")
        .arg(&stream)
        .query_async(&mut redis)
        .await
        .unwrap();
}
