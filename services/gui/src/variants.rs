//! A/B variants of ranking: each candidate is assigned to one, deterministically, by
//! configuration with shares (`RANKING_VARIANTS`); the variant's ranking settings go with
//! every `POST /match` made for them, and the results, interactions and notifications
//! record it. `gui report-variants` compares them ([`crate::learning::report`]).
//!
//! `RANKING_VARIANTS` lists `name:share[:setting,...]` separated by `;`, e.g.
//! `control:50;skills:50:weight.skills=2,weight.lexical=0.5`. A setting is
//! `weight.<signal>=<w>` (the signals' weights of `POST /match`, others 0 once one is
//! given) or `reranker=<model id>` (matching's learned re-ranker). Unset: one variant,
//! `control`, with matching's own settings.
//!
//! A candidate's variant is the bucket of a hash of their id (10,000 buckets) in the
//! variants' cumulative shares: the same candidate gets the same variant in every
//! session, on every replica, after every restart, while the shares stay the same.

use platform::config::{ConfigError, Env};
use sha2::{Digest, Sha256};
use shared::SignalWeights;
use uuid::Uuid;

/// One way of ranking, and the part of the candidates it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub name: String,
    /// Relative share of the candidates (the shares need not sum to 100).
    pub share: u32,
    /// The signals' weights sent to matching (None: matching's own).
    pub weights: Option<SignalWeights>,
    /// The learned re-ranker matching applies (None: the hand-tuned fusion alone).
    pub reranker: Option<String>,
}

/// The configured variants, in their order (the first is the control the report compares
/// the others with).
#[derive(Debug, Clone, PartialEq)]
pub struct Variants {
    list: Vec<Variant>,
}

/// The name of the one variant when none is configured.
pub const CONTROL: &str = "control";

/// Buckets a candidate's hash is reduced to: shares resolve to 0.01 %.
const BUCKETS: u64 = 10_000;

/// Salt of the assignment's hash: changing it reshuffles every candidate.
const SALT: &[u8] = b"jobmatch ranking variants v1";

impl Default for Variants {
    fn default() -> Self {
        Self {
            list: vec![Variant {
                name: CONTROL.into(),
                share: 100,
                weights: None,
                reranker: None,
            }],
        }
    }
}

impl Variants {
    /// `RANKING_VARIANTS`, or the one `control` variant.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        match env.raw("RANKING_VARIANTS") {
            None => Ok(Self::default()),
            Some(raw) => Self::parse(raw).map_err(|e| ConfigError::new("RANKING_VARIANTS", e)),
        }
    }

    /// Parses `name:share[:setting,...];...`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut list: Vec<Variant> = Vec::new();
        for item in raw.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let mut parts = item.splitn(3, ':');
            let name = parts.next().unwrap_or_default().trim();
            let valid_name = !name.is_empty()
                && name.len() <= 40
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid_name {
                return Err(format!(
                    "variant name {name:?}: 1 to 40 letters, digits, '-' or '_'"
                ));
            }
            if list.iter().any(|v| v.name == name) {
                return Err(format!("variant {name} is named twice"));
            }
            let share: u32 = parts
                .next()
                .and_then(|s| s.trim().parse().ok())
                .filter(|&s| s <= 100_000)
                .ok_or_else(|| format!("variant {name}: a share (a whole number) after ':'"))?;
            let mut variant = Variant {
                name: name.to_owned(),
                share,
                weights: None,
                reranker: None,
            };
            let mut weights = serde_json::Map::new();
            for setting in parts
                .next()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                let (key, value) = setting.split_once('=').ok_or_else(|| {
                    format!("variant {name}: setting {setting:?} is not key=value")
                })?;
                match key.trim() {
                    "reranker" if !value.trim().is_empty() => {
                        variant.reranker = Some(value.trim().to_owned())
                    }
                    key => match key.strip_prefix("weight.") {
                        Some(signal) => {
                            let weight: f64 = value
                                .trim()
                                .parse()
                                .ok()
                                .filter(|w: &f64| w.is_finite() && *w >= 0.0)
                                .ok_or_else(|| {
                                    format!("variant {name}: {key} must be a number ≥ 0")
                                })?;
                            weights.insert(signal.to_owned(), serde_json::json!(weight));
                        }
                        None => {
                            return Err(format!(
                            "variant {name}: unknown setting {key:?} (weight.<signal> or reranker)"
                        ))
                        }
                    },
                }
            }
            if !weights.is_empty() {
                variant.weights = Some(
                    serde_json::from_value(serde_json::Value::Object(weights))
                        .map_err(|e| format!("variant {name}: {e}"))?,
                );
            }
            list.push(variant);
        }
        if list.is_empty() {
            return Err("no variant: give name:share[;name:share...]".into());
        }
        if list.iter().all(|v| v.share == 0) {
            return Err("every share is 0".into());
        }
        Ok(Self { list })
    }

    /// The variants, the control first.
    pub fn all(&self) -> &[Variant] {
        &self.list
    }

    /// The candidate's variant.
    pub fn of(&self, user: Uuid) -> &Variant {
        let digest = Sha256::new()
            .chain_update(SALT)
            .chain_update(user.as_bytes())
            .finalize();
        let hash = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        let total: u64 = self.list.iter().map(|v| u64::from(v.share)).sum();
        // The bucket, scaled to the shares' total.
        let point = (hash % BUCKETS) * total / BUCKETS;
        let mut cumulative = 0;
        for variant in &self.list {
            cumulative += u64::from(variant.share);
            if point < cumulative {
                return variant;
            }
        }
        self.list.last().expect("at least one variant")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_candidate_keeps_their_variant_and_the_shares_hold() {
        let variants =
            Variants::parse("control:50;skills:30:weight.skills=2;reranked:20:reranker=linear-1")
                .unwrap();
        // The same configuration read again (another replica, a restart) assigns alike.
        let again =
            Variants::parse("control:50;skills:30:weight.skills=2;reranked:20:reranker=linear-1")
                .unwrap();
        let mut counts = std::collections::HashMap::new();
        for n in 0..20_000u128 {
            let user = Uuid::from_u128(n.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
            let variant = variants.of(user);
            assert_eq!(variant, variants.of(user), "stable");
            assert_eq!(variant, again.of(user), "the same after a restart");
            *counts.entry(variant.name.clone()).or_insert(0u32) += 1;
        }
        for (name, share) in [("control", 0.5), ("skills", 0.3), ("reranked", 0.2)] {
            let seen = f64::from(counts[name]) / 20_000.0;
            assert!((seen - share).abs() < 0.015, "{name}: {seen}");
        }
    }

    #[test]
    fn settings_are_read_and_bad_ones_named() {
        let variants =
            Variants::parse("a:1:weight.skills=2,weight.lexical=0.5;b:3:reranker=m-1").unwrap();
        let a = &variants.all()[0];
        let weights = a.weights.unwrap();
        assert_eq!(
            (weights.skills, weights.lexical, weights.semantic),
            (2.0, 0.5, 0.0)
        );
        assert_eq!(variants.all()[1].reranker.as_deref(), Some("m-1"));
        assert_eq!(Variants::default().all()[0].name, CONTROL);
        for (raw, says) in [
            ("a:1;a:2", "named twice"),
            ("a", "a share"),
            ("a:x", "a share"),
            ("a:1:weight.flair=1", "flair"),
            ("a:1:weight.skills=-1", "≥ 0"),
            ("a:1:colour=blue", "unknown setting"),
            ("a b:1", "variant name"),
            ("a:0;b:0", "every share is 0"),
            ("", "no variant"),
        ] {
            let error = Variants::parse(raw).unwrap_err();
            assert!(error.contains(says), "{raw:?}: {error}");
        }
    }

    #[test]
    fn a_zero_share_gets_no_candidate() {
        let variants = Variants::parse("control:1;off:0").unwrap();
        for n in 0..2_000u128 {
            assert_eq!(variants.of(Uuid::from_u128(n * 7919)).name, "control");
        }
    }
}
