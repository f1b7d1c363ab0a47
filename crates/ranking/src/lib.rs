//! Hybrid ranking of job offers for a candidate, beside the vectors' cosine that
//! pgvector gives: words (BM25F over title, skills and description, French and English
//! analysis), job titles (the candidate's against the offers' titles and ROME
//! appellations), ROME jobs (learned from the offers' own titles), skills (listed by the
//! offer, or found in its text), fused into one score in [0, 1].
//!
//! matching holds an [`Index`] of the active offers in memory and keeps it in step with
//! the database (see `matching::offers_index`); `make eval` measures what each signal
//! brings.

pub mod index;
pub mod rerank;
pub mod search;
pub mod text;

pub use index::{Builder, DocSkill, FieldWeights, Index, OfferDoc, OfferMeta};
pub use rerank::{Feature, Reranker};
pub use search::{Profile, Ranked, Reasons, Scoring, Signals, Vectors, Weights};
pub use text::{Analyzer, Language};
