//! What every jobmatch service shares: the wire DTOs of the architecture's contracts,
//! configuration from the environment, and text embeddings.

pub mod dto;
pub mod embedding;
pub mod env;

pub use dto::*;
