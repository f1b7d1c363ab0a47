//! The events services publish to each other (Redis Streams, through offre-ingestion's
//! outbox): each payload carries its schema version, and a consumer that does not know
//! a version dead-letters the event rather than guess at it.

use serde::{Deserialize, Serialize};

/// The stream offre-ingestion publishes to after a run that changed the offers (behind
/// `EVENTS_STREAM_PREFIX`).
pub const OFFERS_INGESTED: &str = "offers.ingested";

/// The field of a stream entry that holds the event's JSON.
pub const EVENT_FIELD: &str = "event";
/// The field that holds the outbox row's id (at-least-once delivery: a consumer may
/// see it twice).
pub const OUTBOX_ID_FIELD: &str = "outbox_id";

/// What an `offers.ingested` event holds, version [`OffersIngested::SCHEMA_VERSION`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OffersIngested {
    pub schema_version: u32,
    pub run_id: i64,
    /// Offers the run created, and offers it changed.
    pub new_ids: Vec<String>,
    pub changed_ids: Vec<String>,
    /// How many offers it archived and embedded.
    pub archived: i32,
    pub embedded: i32,
}

impl OffersIngested {
    pub const SCHEMA_VERSION: u32 = 1;
}

/// Why an event cannot be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EventError {
    #[error("not JSON of an object with a schema_version: {0}")]
    Malformed(String),
    #[error("schema version {0} is not one this consumer knows (it knows {1})")]
    UnknownVersion(u64, u32),
}

impl OffersIngested {
    /// Reads an event's JSON: its version first, then its fields.
    pub fn parse(json: &str) -> Result<Self, EventError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| EventError::Malformed(e.to_string()))?;
        let version = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| EventError::Malformed("no schema_version".into()))?;
        if version != u64::from(Self::SCHEMA_VERSION) {
            return Err(EventError::UnknownVersion(version, Self::SCHEMA_VERSION));
        }
        serde_json::from_value(value).map_err(|e| EventError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_read_by_its_version() {
        let event = OffersIngested {
            schema_version: 1,
            run_id: 7,
            new_ids: vec!["A1".into()],
            changed_ids: vec![],
            archived: 0,
            embedded: 1,
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(OffersIngested::parse(&json), Ok(event));
        assert_eq!(
            OffersIngested::parse(r#"{"schema_version": 2, "run_id": 1}"#),
            Err(EventError::UnknownVersion(2, 1))
        );
        assert!(matches!(
            OffersIngested::parse(r#"{"run_id": 1}"#),
            Err(EventError::Malformed(_))
        ));
        assert!(matches!(
            OffersIngested::parse(r#"{"schema_version": 1, "run_id": "x"}"#),
            Err(EventError::Malformed(_))
        ));
        assert!(matches!(
            OffersIngested::parse("not json"),
            Err(EventError::Malformed(_))
        ));
    }
}
