//! What every jobmatch service shares: the wire DTOs of the architecture's contracts,
//! configuration from the environment, the accent folding every service compares text
//! with, and (feature `embedding`) text embeddings.

pub mod dto;
#[cfg(feature = "embedding")]
pub mod embedding;
pub mod events;
pub mod profile;
pub mod text;

pub use dto::*;

/// The default embedding model: 384 dimensions, 256-token limit, mean pooling,
/// normalised. Also what matching compares when `MATCH_MODEL` is unset.
pub const DEFAULT_MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";
