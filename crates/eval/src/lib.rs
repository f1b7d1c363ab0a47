//! `make eval`: ranking quality measured through the product's own path (see [`run`]),
//! with score.py's metrics ([`metrics`]) and BM25 baseline ([`baseline`]) ported, so that
//! one run prints every figure beside its reference.

pub mod baseline;
pub mod metrics;
pub mod notify;
pub mod rerank;
pub mod run;
pub mod set;
pub mod tune;
