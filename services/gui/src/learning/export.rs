//! `gui export-training-data DIR`: what candidates did with the matches they were shown,
//! as training data for ranking, pseudonymised.
//!
//! - `graded.jsonl`: each positive, graded as the candidate's acts say (saved 1 < applied
//!   2 < interview 3 < hired 4), with the outcomes as told (`true`, `false`, or `null`:
//!   not told), its variant and the rank it was shown at.
//! - `pairs.jsonl`: `(cv, offer, label)` for cross-encoders or learning-to-rank (`qid`
//!   groups a candidate's pairs): the positives with their grade, the hard negatives 0.
//! - `triplets.jsonl`: `(anchor, positive, negative)` for sentence-transformers: each
//!   positive with up to [`NEGATIVES_PER_POSITIVE`] of the candidate's hard negatives.
//! - `lists.jsonl`: per candidate, the matches shown in rank order with their score, the
//!   ranking signals they were shown with and their grade (0 when none): what a learned
//!   re-ranker of matching's signals trains on.
//! - `manifest.json`: counts and what the files hold.
//!
//! A hard negative is an offer shown in the first [`HARD_NEGATIVE_RANK`] that the
//! candidate passed over: not opened, or opened for less than [`BRIEF_VIEW_SECONDS`],
//! and neither saved nor applied to.
//!
//! Pseudonymised: a candidate is a hash salted afresh for each export (two exports
//! cannot be joined); the profile's text is its titles, the CV from its first section on
//! (the header above it names and locates the candidate) without contact details,
//! interests and additional information, and its skills; then e-mail addresses, web
//! links, telephone numbers, street addresses, postal codes and the words of the
//! candidate's e-mail address are replaced by placeholders, in the offers' texts too.
//! Accounts deleted are gone from it: their rows were deleted with them.

use std::collections::HashMap;
use std::path::Path;

use serde_json::json;
use sha2::{Digest, Sha256};
use shared::profile::{heading_start, CandidateProfile};
use sqlx::PgPool;
use uuid::Uuid;

/// Hard negatives are taken among the offers shown this high.
pub const HARD_NEGATIVE_RANK: i32 = 10;
/// An offer opened for less than this was passed over.
pub const BRIEF_VIEW_SECONDS: i32 = 10;
/// Hard negatives paired with each positive in the triplets.
pub const NEGATIVES_PER_POSITIVE: usize = 5;

/// What an export wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Exported {
    pub candidates: usize,
    pub positives: usize,
    pub hard_negatives: usize,
    pub triplets: usize,
}

/// One candidate's row for an offer they were shown or acted on.
struct Act {
    user_id: Uuid,
    email: String,
    offer: String,
    rank: Option<i32>,
    variant: Option<String>,
    viewed: bool,
    seconds: i32,
    saved: bool,
    applied: bool,
    got_interview: Option<bool>,
    got_hired: Option<bool>,
}

impl Act {
    /// 1 saved, 2 applied, 3 interview, 4 hired; None for no positive act.
    fn grade(&self) -> Option<(u8, &'static str)> {
        if self.got_hired == Some(true) {
            Some((4, "hired"))
        } else if self.got_interview == Some(true) {
            Some((3, "interview"))
        } else if self.applied {
            Some((2, "applied"))
        } else if self.saved {
            Some((1, "saved"))
        } else {
            None
        }
    }

    fn passed_over(&self) -> bool {
        self.grade().is_none()
            && self.rank.is_some_and(|r| r <= HARD_NEGATIVE_RANK)
            && (!self.viewed || self.seconds < BRIEF_VIEW_SECONDS)
    }
}

/// Writes the export into `dir` (made if missing).
pub async fn export(db: &PgPool, dir: &Path) -> anyhow::Result<Exported> {
    std::fs::create_dir_all(dir)?;
    let acts = sqlx::query_as!(
        Act,
        r#"SELECT u.id AS "user_id!", u.email AS "email!", a.offer_external_id AS "offer!",
             s.rank AS "rank?", coalesce(i.variant, s.variant) AS variant,
             coalesce(i.viewed, false) AS "viewed!", coalesce(i.time_spent_seconds, 0) AS "seconds!",
             coalesce(i.saved, false) AS "saved!", coalesce(i.applied, false) AS "applied!",
             i.got_interview AS "got_interview?", i.got_hired AS "got_hired?"
         FROM (SELECT user_id, offer_external_id FROM gui.match_impressions
               UNION SELECT user_id, offer_external_id FROM gui.offer_interactions) a
         JOIN gui.users u ON u.id = a.user_id
         JOIN gui.job_offers o ON o.external_id = a.offer_external_id
         LEFT JOIN gui.match_impressions s USING (user_id, offer_external_id)
         LEFT JOIN gui.offer_interactions i USING (user_id, offer_external_id)
         ORDER BY u.id, s.rank NULLS LAST, a.offer_external_id"#
    )
    .fetch_all(db)
    .await?;
    let salt = Uuid::new_v4();
    let pseudonym = |user: Uuid| {
        let digest = Sha256::new()
            .chain_update(salt.as_bytes())
            .chain_update(user.as_bytes())
            .finalize();
        digest[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut by_candidate: Vec<(Uuid, Vec<Act>)> = Vec::new();
    for act in acts {
        match by_candidate.last_mut() {
            Some((user, list)) if *user == act.user_id => list.push(act),
            _ => by_candidate.push((act.user_id, vec![act])),
        }
    }
    let mut offer_texts: HashMap<String, String> = HashMap::new();
    let (mut graded, mut pairs, mut triplets) = (String::new(), String::new(), String::new());
    let mut lists = String::new();
    let mut exported = Exported::default();
    for (user, acts) in &by_candidate {
        let positives: Vec<&Act> = acts.iter().filter(|a| a.grade().is_some()).collect();
        if positives.is_empty() {
            continue;
        }
        let Some((_, candidate)) = crate::profile::candidate(db, *user).await? else {
            continue;
        };
        let known = identifying_words(&acts[0].email);
        let anchor = pseudonymise(&profile_text(&candidate), &known);
        let negatives: Vec<&Act> = acts.iter().filter(|a| a.passed_over()).collect();
        for act in positives.iter().chain(&negatives) {
            if !offer_texts.contains_key(&act.offer) {
                let text = offer_text(db, &act.offer).await?;
                offer_texts.insert(act.offer.clone(), pseudonymise(&text, &[]));
            }
        }
        let qid = pseudonym(*user);
        exported.candidates += 1;
        for positive in &positives {
            let (grade, label) = positive.grade().expect("a positive");
            push_line(
                &mut graded,
                json!({
                    "candidate": qid,
                    "offer": positive.offer,
                    "grade": grade,
                    "label": label,
                    "saved": positive.saved,
                    "applied": positive.applied,
                    "got_interview": positive.got_interview,
                    "got_hired": positive.got_hired,
                    "variant": positive.variant,
                    "rank": positive.rank,
                }),
            );
            push_line(
                &mut pairs,
                json!({"qid": qid, "cv": anchor, "offer": offer_texts[&positive.offer], "label": grade}),
            );
            exported.positives += 1;
            for negative in negatives.iter().take(NEGATIVES_PER_POSITIVE) {
                push_line(
                    &mut triplets,
                    json!({
                        "anchor": anchor,
                        "positive": offer_texts[&positive.offer],
                        "negative": offer_texts[&negative.offer],
                    }),
                );
                exported.triplets += 1;
            }
        }
        for negative in &negatives {
            push_line(
                &mut pairs,
                json!({"qid": qid, "cv": anchor, "offer": offer_texts[&negative.offer], "label": 0}),
            );
            exported.hard_negatives += 1;
        }
        let grades: HashMap<&str, u8> = positives
            .iter()
            .map(|a| (a.offer.as_str(), a.grade().expect("a positive").0))
            .collect();
        let shown: Vec<serde_json::Value> = sqlx::query!(
            "SELECT offer_external_id, rank, score, signals FROM gui.match_impressions
             WHERE user_id = $1 ORDER BY rank, offer_external_id",
            user
        )
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|row| {
            let grade = grades
                .get(row.offer_external_id.as_str())
                .copied()
                .unwrap_or(0);
            json!({
                "offer": row.offer_external_id, "rank": row.rank, "score": row.score,
                "signals": row.signals, "grade": grade,
            })
        })
        .collect();
        push_line(&mut lists, json!({"qid": qid, "shown": shown}));
    }
    std::fs::write(dir.join("graded.jsonl"), graded)?;
    std::fs::write(dir.join("pairs.jsonl"), pairs)?;
    std::fs::write(dir.join("triplets.jsonl"), triplets)?;
    std::fs::write(dir.join("lists.jsonl"), lists)?;
    let manifest = json!({
        "exported_at": chrono::Utc::now(),
        "candidates": exported.candidates,
        "positives": exported.positives,
        "hard_negatives": exported.hard_negatives,
        "triplets": exported.triplets,
        "grades": {"saved": 1, "applied": 2, "interview": 3, "hired": 4, "hard negative": 0},
        "hard_negative": format!(
            "shown in the first {HARD_NEGATIVE_RANK}, not opened or opened under {BRIEF_VIEW_SECONDS} s, neither saved nor applied to"
        ),
        "outcomes": "got_interview and got_hired: true, false, or null when the candidate did not tell",
        "pseudonymised": "candidates as hashes salted for this export; e-mail addresses, links, telephone numbers, street addresses, postal codes and the words of the candidate's e-mail address replaced; the CV's header, contact details, interests and additional information left out",
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    Ok(exported)
}

fn push_line(out: &mut String, value: serde_json::Value) {
    out.push_str(&value.to_string());
    out.push('\n');
}

/// The profile's titles, its CV from the first section on (what is above names and
/// locates the candidate), without contact details, interests and additional
/// information, and its skills.
fn profile_text(candidate: &CandidateProfile) -> String {
    let mut trimmed = candidate.clone();
    if let Some(first) = candidate
        .sections
        .iter()
        .filter(|s| {
            s.start <= candidate.cv_text.len() && candidate.cv_text.is_char_boundary(s.start)
        })
        .map(|s| heading_start(&candidate.cv_text, s.start))
        .min()
    {
        trimmed.cv_text = candidate.cv_text[first..].to_owned();
        for section in &mut trimmed.sections {
            section.start = section.start.saturating_sub(first);
            section.end = section.end.saturating_sub(first);
        }
    } else {
        // No section found: the whole text may be a header; keep titles and skills.
        trimmed.cv_text.clear();
    }
    trimmed.embedding_text()
}

/// An offer's title, text and skills, from the local copy.
async fn offer_text(db: &PgPool, id: &str) -> Result<String, sqlx::Error> {
    let offer = sqlx::query!(
        r#"SELECT o.title, o.description,
             ARRAY(SELECT name FROM gui.job_offer_skills s WHERE s.offer_external_id = o.external_id ORDER BY name) AS "skills!"
         FROM gui.job_offers o WHERE o.external_id = $1"#,
        id
    )
    .fetch_one(db)
    .await?;
    let mut text = offer.title;
    if let Some(description) = offer.description.filter(|d| !d.trim().is_empty()) {
        text.push('\n');
        text.push_str(description.trim());
    }
    if !offer.skills.is_empty() {
        text.push('\n');
        text.push_str(&offer.skills.join(", "));
    }
    Ok(text)
}

/// The words of an e-mail address's local part that may be a name (`camille.martin`).
fn identifying_words(email: &str) -> Vec<String> {
    let local = email.split('@').next().unwrap_or_default();
    local
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

/// Street types of French (and English) addresses.
const STREET_TYPES: [&str; 17] = [
    "rue",
    "avenue",
    "av.",
    "boulevard",
    "bd",
    "chemin",
    "allée",
    "allee",
    "impasse",
    "place",
    "route",
    "quai",
    "cours",
    "square",
    "lotissement",
    "street",
    "road",
];

/// `text` with e-mail addresses, links, telephone numbers, street addresses, postal codes
/// and the `known` words (lower case) replaced by placeholders.
pub fn pseudonymise(text: &str, known: &[String]) -> String {
    text.lines()
        .map(|line| pseudonymise_line(line, known))
        .collect::<Vec<_>>()
        .join("\n")
}

fn pseudonymise_line(line: &str, known: &[String]) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '+');
        let lower = bare.to_lowercase();
        // A telephone number: one token or several groups of digits (9 to 12 digits).
        if let Some(taken) = phone_at(&words[i..]) {
            out.push("[téléphone]".into());
            i += taken;
            continue;
        }
        if bare.contains('@') && bare.contains('.') {
            out.push("[courriel]".into());
        } else if lower.starts_with("http") || lower.starts_with("www.") {
            out.push("[lien]".into());
        } else if is_street_number(bare)
            && words
                .get(i + 1)
                .is_some_and(|w| STREET_TYPES.contains(&w.to_lowercase().trim_end_matches(',')))
        {
            // The number, the street type and the street's name up to a comma or the end.
            out.push("[adresse]".into());
            i += 2;
            while i < words.len() && !words[i - 1].ends_with(',') {
                i += 1;
            }
            continue;
        } else if bare.len() == 5 && bare.bytes().all(|b| b.is_ascii_digit()) {
            out.push("[code postal]".into());
        } else if !lower.is_empty() && known.contains(&lower) {
            out.push("[nom]".into());
        } else {
            out.push(word.to_owned());
        }
        i += 1;
    }
    out.join(" ")
}

/// How many words from the start of `words` make a telephone number, if they do.
fn phone_at(words: &[&str]) -> Option<usize> {
    let mut digits = 0;
    let mut taken = 0;
    for word in words.iter().take(6) {
        let w = word.trim_end_matches([',', ';']);
        let phone_like = !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_digit() || "+.-()/".contains(c))
            && w.chars().any(|c| c.is_ascii_digit());
        if !phone_like {
            break;
        }
        digits += w.chars().filter(char::is_ascii_digit).count();
        taken += 1;
        if (10..=12).contains(&digits) {
            let first = words[0].trim_start_matches(['(', '+']);
            if words[0].starts_with('+') || first.starts_with('0') {
                return Some(taken);
            }
        }
        if digits > 12 {
            break;
        }
    }
    None
}

/// `12`, `3bis`, `7ter`.
fn is_street_number(word: &str) -> bool {
    let digits = word.trim_end_matches(|c: char| c.is_alphabetic() || c == ',');
    !digits.is_empty() && digits.len() <= 4 && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_details_and_known_names_are_replaced() {
        let known = identifying_words("camille.martin92@exemple.fr");
        let text = "Camille MARTIN – camille.martin92@exemple.fr – 06 12 34 56 78\n\
                    12 rue des Lilas, 69007 Lyon – +33 6 12 34 56 78 – https://linkedin.com/in/cm\n\
                    Soudeuse TIG depuis 2015, 3 ans chez Martin & Fils (0612345678)";
        let out = pseudonymise(text, &known);
        for gone in [
            "Camille",
            "MARTIN",
            "exemple.fr",
            "12 34",
            "Lilas",
            "69007",
            "linkedin",
            "0612345678",
        ] {
            assert!(!out.contains(gone), "{gone} left in: {out}");
        }
        assert!(
            out.contains("Soudeuse TIG depuis 2015, 3 ans chez [nom] & Fils"),
            "{out}"
        );
        assert!(
            out.contains("[courriel]") && out.contains("[téléphone]") && out.contains("[adresse]")
        );
        assert!(
            out.contains("[code postal] Lyon") || out.contains("[adresse]"),
            "{out}"
        );
    }

    #[test]
    fn years_and_counts_are_not_telephone_numbers() {
        let out = pseudonymise("2015 - 2019 : 3 postes, 250 salariés, CA 1 200 000 €", &[]);
        assert_eq!(out, "2015 - 2019 : 3 postes, 250 salariés, CA 1 200 000 €");
    }
}
