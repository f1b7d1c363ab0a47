//! What the jobmatch services say to each other: the wire DTOs of the architecture's
//! contracts, with serde and OpenAPI (utoipa) schemas.

pub mod dto;

pub use dto::*;
