//! What every jobmatch service shares: the wire DTOs of the architecture's contracts,
//! configuration from the environment, text embeddings, and the accent folding every
//! service compares text with.

pub mod dto;
pub mod embedding;
pub mod env;
pub mod events;
pub mod profile;
pub mod text;

pub use dto::*;
