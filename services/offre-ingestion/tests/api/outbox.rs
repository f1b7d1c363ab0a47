//! Events reach the Redis Stream through the outbox, also when Redis was down at the
//! time of the run.

use std::time::Duration;

use offre_ingestion::ingest::ingest_file;
use offre_ingestion::relay::{self, RelayConfig};
use testkit::{TcpProxy, TestDb};

use crate::common::*;

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
    let stream = config.bus.stream(shared::events::OFFERS_INGESTED);
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
    let event = shared::events::OffersIngested::parse(&fields["event"]).unwrap();
    assert_eq!(event.schema_version, 1, "the payload says its version");
    assert_eq!(event.run_id, report.run_id);
    assert_eq!(event.new_ids, ["T000000", "T000001", "T000002"]);
    assert!(fields["outbox_id"].parse::<i64>().is_ok());
    relay.abort();
    let _: () = redis::cmd("DEL")
        .arg(&stream)
        .query_async(&mut redis)
        .await
        .unwrap();
}

/// The relay caps the stream (`XADD MAXLEN ~`): Redis memory stays bounded whatever the
/// consumers do.
#[tokio::test]
async fn the_stream_is_capped_at_about_its_max_length() {
    let db = TestDb::new().await;
    let pool = db.pool().await;
    sqlx::query(
        "INSERT INTO offers.outbox (stream, payload)
         SELECT 'offers.ingested', jsonb_build_object('schema_version', 1, 'run_id', i)
         FROM generate_series(1, 1000) AS i",
    )
    .execute(&pool)
    .await
    .unwrap();
    let config =
        RelayConfig::from_env(&testkit::env().with("EVENTS_STREAM_MAX_LEN", "100")).unwrap();
    let client = redis::Client::open(testkit::redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    assert_eq!(
        relay::publish_pending(&pool, &mut redis, &config)
            .await
            .unwrap(),
        1000
    );
    let stream = config.bus.stream(shared::events::OFFERS_INGESTED);
    let length: usize = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut redis)
        .await
        .unwrap();
    // `~` trims whole nodes of the stream (100 entries each by default).
    assert!((100..=200).contains(&length), "{length}");
    let _: () = redis::cmd("DEL")
        .arg(&stream)
        .query_async(&mut redis)
        .await
        .unwrap();
}
