//! The searchable offers: an inverted index for BM25F over title, skills and body, a
//! title index, the offers' skills and ROME jobs, and the groups of offers posted twice.
//!
//! An [`Index`] is immutable: [`Builder`] keeps every offer analysed (in its own
//! vocabulary, so that an update analyses only what changed) and makes a new snapshot
//! after each batch of changes, which searches then share through an `Arc`.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::text::{Analyzer, Language};

/// One offer as ranking reads it (from offre-ingestion's silver tables).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfferDoc {
    pub id: String,
    pub title: String,
    /// The ROME appellation (France Travail's normalised job title).
    pub appellation: Option<String>,
    pub rome_code: Option<String>,
    pub rome_label: Option<String>,
    pub skills: Vec<DocSkill>,
    pub description: Option<String>,
    pub company: Option<String>,
    pub location: Option<String>,
    pub meta: OfferMeta,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocSkill {
    pub label: String,
    /// Exigence E (required) rather than S (wished) or unknown.
    pub required: bool,
}

/// What filters read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfferMeta {
    pub contract_type: Option<String>,
    pub rome_code: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// BM25F fields and their weights: a word in an offer's title or skills says more about
/// the job than a word of its description.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldWeights {
    pub title: f32,
    pub skills: f32,
    pub body: f32,
}

impl Default for FieldWeights {
    fn default() -> Self {
        Self {
            title: 3.0,
            skills: 1.5,
            body: 1.0,
        }
    }
}

/// BM25 constants (the usual ones).
const K1: f32 = 1.2;
const B: f32 = 0.75;

const TITLE: usize = 0;
const SKILLS: usize = 1;
const BODY: usize = 2;

/// An offer analysed once, kept by the builder between snapshots.
#[derive(Debug)]
pub(crate) struct Analyzed {
    pub id: Arc<str>,
    /// Distinct terms of the title and appellation.
    pub title_terms: Vec<u32>,
    /// Term frequencies per field (title, skills, body), and each field's length.
    pub fields: [Vec<(u32, u16)>; 3],
    pub lengths: [u32; 3],
    /// The offer's skills (skill ids) and whether each is required.
    pub skills: Vec<(u32, bool)>,
    pub rome: Option<u32>,
    pub meta: OfferMeta,
    pub duplicate_key: u64,
}

/// Terms, skills and ROME codes seen so far, each with a stable number.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vocabulary {
    pub terms: HashMap<String, u32>,
    /// A skill is its distinct terms, sorted; its label is the first spelling seen.
    pub skills: HashMap<Vec<u32>, u32>,
    pub skill_labels: Vec<String>,
    pub skill_terms: Vec<Vec<u32>>,
    pub romes: HashMap<String, u32>,
}

impl Vocabulary {
    pub fn term(&mut self, term: String) -> u32 {
        let next = self.terms.len() as u32;
        *self.terms.entry(term).or_insert(next)
    }

    fn skill(&mut self, terms: Vec<u32>, label: &str) -> u32 {
        let next = self.skills.len() as u32;
        *self.skills.entry(terms.clone()).or_insert_with(|| {
            self.skill_labels.push(label.to_owned());
            self.skill_terms.push(terms);
            next
        })
    }

    fn rome(&mut self, code: &str) -> u32 {
        let next = self.romes.len() as u32;
        *self.romes.entry(code.to_owned()).or_insert(next)
    }
}

/// Keeps every offer analysed and makes [`Index`] snapshots.
pub struct Builder {
    vocabulary: Vocabulary,
    offers: HashMap<Arc<str>, Arc<Analyzed>>,
    weights: FieldWeights,
}

impl Builder {
    pub fn new(weights: FieldWeights) -> Self {
        Self {
            vocabulary: Vocabulary::default(),
            offers: HashMap::new(),
            weights,
        }
    }

    /// Adds an offer, or replaces the one with its id.
    pub fn upsert(&mut self, offer: &OfferDoc) {
        let analyzed = analyze(offer, &mut self.vocabulary);
        self.offers.insert(analyzed.id.clone(), Arc::new(analyzed));
    }

    /// Forgets an offer (archived or gone).
    pub fn remove(&mut self, id: &str) {
        self.offers.remove(id);
    }

    /// A snapshot of every offer held now.
    pub fn snapshot(&self) -> Index {
        let mut docs: Vec<Arc<Analyzed>> = self.offers.values().cloned().collect();
        // Offer order is the index's doc order: by id, so that two snapshots of the same
        // offers rank ties alike.
        docs.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        Index::build(docs, self.vocabulary.clone(), self.weights)
    }
}

fn analyze(offer: &OfferDoc, vocabulary: &mut Vocabulary) -> Analyzed {
    let analyzer = Analyzer::get();
    let body_text = [offer.rome_label.as_deref(), offer.description.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
    let language = Language::detect(&format!("{}\n{body_text}", offer.title));
    let field = |text: &str, vocabulary: &mut Vocabulary| {
        let mut counts: HashMap<u32, u16> = HashMap::new();
        let mut length = 0u32;
        for (_, term) in analyzer.terms(text, language) {
            let count = counts.entry(vocabulary.term(term)).or_default();
            *count = count.saturating_add(1);
            length += 1;
        }
        let mut tf: Vec<(u32, u16)> = counts.into_iter().collect();
        tf.sort_unstable();
        (tf, length)
    };
    let title_text = match &offer.appellation {
        Some(appellation) => format!("{}\n{appellation}", offer.title),
        None => offer.title.clone(),
    };
    let skills_text = offer
        .skills
        .iter()
        .map(|s| s.label.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let (title, title_len) = field(&title_text, vocabulary);
    let (skills_tf, skills_len) = field(&skills_text, vocabulary);
    let (body, body_len) = field(&body_text, vocabulary);
    let mut skills = Vec::new();
    for skill in &offer.skills {
        let terms = skill_terms(&skill.label, language, vocabulary);
        if !terms.is_empty() {
            let id = vocabulary.skill(terms, &skill.label);
            if !skills.iter().any(|(s, _)| *s == id) {
                skills.push((id, skill.required));
            }
        }
    }
    Analyzed {
        id: Arc::from(offer.id.as_str()),
        title_terms: title.iter().map(|(t, _)| *t).collect(),
        fields: [title, skills_tf, body],
        lengths: [title_len, skills_len, body_len],
        skills,
        rome: offer.rome_code.as_deref().map(|c| vocabulary.rome(c)),
        meta: offer.meta.clone(),
        duplicate_key: duplicate_key(offer),
    }
}

/// The distinct terms of a skill label, sorted: its identity.
pub(crate) fn skill_terms(
    label: &str,
    language: Language,
    vocabulary: &mut Vocabulary,
) -> Vec<u32> {
    let mut terms: Vec<u32> = Analyzer::get()
        .terms(label, language)
        .map(|(_, t)| vocabulary.term(t))
        .collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// Offers with the same title, company, place and description are one job posted twice.
fn duplicate_key(offer: &OfferDoc) -> u64 {
    let mut hasher = DefaultHasher::new();
    let plain = |s: Option<&str>| {
        shared::text::fold(s.unwrap_or(""))
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty() && !matches!(*w, "h" | "f"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    plain(Some(&offer.title)).hash(&mut hasher);
    plain(offer.company.as_deref()).hash(&mut hasher);
    plain(offer.location.as_deref()).hash(&mut hasher);
    plain(offer.description.as_deref()).hash(&mut hasher);
    hasher.finish()
}

/// One posting of the BM25F index: a doc and its saturated, length-normalised,
/// field-weighted term frequency, tf / (k1 + tf).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Posting {
    pub doc: u32,
    pub weight: f32,
}

/// A searchable snapshot of the offers.
pub struct Index {
    pub(crate) docs: Vec<Arc<Analyzed>>,
    pub(crate) by_id: HashMap<Arc<str>, u32>,
    pub(crate) vocabulary: Vocabulary,
    /// By term: the docs holding it, in doc order, and the term's idf.
    pub(crate) postings: Vec<Vec<Posting>>,
    pub(crate) idf: Vec<f32>,
    /// By term: the docs whose title holds it, in doc order, and its idf among titles.
    pub(crate) title_postings: Vec<Vec<u32>>,
    pub(crate) title_idf: Vec<f32>,
    /// By doc: the norm of its title's idf vector.
    pub(crate) title_norm: Vec<f32>,
    /// By skill: the docs that list it, and whether they require it.
    pub(crate) skill_docs: Vec<Vec<(u32, bool)>>,
    /// By term: the skills whose label holds it.
    pub(crate) skills_by_term: HashMap<u32, Vec<u32>>,
    /// By doc: the weight of all its skills (required ones count double).
    pub(crate) skill_weight: Vec<f32>,
    /// By duplicate key: the docs of the group, when there are two or more.
    pub(crate) duplicates: HashMap<u64, Vec<u32>>,
    /// Number of ROME codes (`Analyzed::rome` values are below it).
    pub(crate) romes: usize,
    /// By doc: its ROME code's number, next to each other: a search reads them all, and
    /// reading them through each doc's own allocation was a cache miss per offer.
    pub(crate) rome_of: Vec<Option<u32>>,
}

impl Index {
    fn build(docs: Vec<Arc<Analyzed>>, vocabulary: Vocabulary, weights: FieldWeights) -> Self {
        let n_terms = vocabulary.terms.len();
        let n = docs.len().max(1) as f32;
        let mut average = [0f32; 3];
        for d in &docs {
            for (f, len) in d.lengths.iter().enumerate() {
                average[f] += *len as f32 / n;
            }
        }
        let field_weight = [weights.title, weights.skills, weights.body];
        let mut postings: Vec<Vec<Posting>> = vec![Vec::new(); n_terms];
        let mut title_postings: Vec<Vec<u32>> = vec![Vec::new(); n_terms];
        let mut tf: HashMap<u32, f32> = HashMap::new();
        for (doc, d) in docs.iter().enumerate() {
            tf.clear();
            for f in [TITLE, SKILLS, BODY] {
                let norm = 1.0 - B + B * d.lengths[f] as f32 / average[f].max(1.0);
                for (term, count) in &d.fields[f] {
                    *tf.entry(*term).or_default() += field_weight[f] * f32::from(*count) / norm;
                }
            }
            // Docs in order: each posting list is sorted by doc.
            for (term, t) in &tf {
                postings[*term as usize].push(Posting {
                    doc: doc as u32,
                    weight: t / (K1 + t),
                });
            }
            for term in &d.title_terms {
                title_postings[*term as usize].push(doc as u32);
            }
        }
        let idf_of = |df: usize| (1.0 + (n - df as f32 + 0.5) / (df as f32 + 0.5)).ln();
        let idf: Vec<f32> = postings.iter().map(|p| idf_of(p.len())).collect();
        let title_idf: Vec<f32> = title_postings.iter().map(|p| idf_of(p.len())).collect();
        let title_norm = docs
            .iter()
            .map(|d| {
                d.title_terms
                    .iter()
                    .map(|t| title_idf[*t as usize].powi(2))
                    .sum::<f32>()
                    .sqrt()
            })
            .collect();

        let mut skill_docs: Vec<Vec<(u32, bool)>> = vec![Vec::new(); vocabulary.skill_labels.len()];
        let mut skill_weight = Vec::with_capacity(docs.len());
        let mut by_id = HashMap::with_capacity(docs.len());
        let mut groups: HashMap<u64, Vec<u32>> = HashMap::new();
        for (doc, d) in docs.iter().enumerate() {
            let mut weight = 0.0;
            for (skill, required) in &d.skills {
                skill_docs[*skill as usize].push((doc as u32, *required));
                weight += if *required { 2.0 } else { 1.0 };
            }
            skill_weight.push(weight);
            by_id.insert(d.id.clone(), doc as u32);
            groups.entry(d.duplicate_key).or_default().push(doc as u32);
        }
        groups.retain(|_, docs| docs.len() > 1);
        let mut skills_by_term: HashMap<u32, Vec<u32>> = HashMap::new();
        for (skill, terms) in vocabulary.skill_terms.iter().enumerate() {
            if !skill_docs[skill].is_empty() {
                for term in terms {
                    skills_by_term.entry(*term).or_default().push(skill as u32);
                }
            }
        }
        let romes = vocabulary.romes.len();
        let rome_of = docs.iter().map(|d| d.rome).collect();
        Self {
            rome_of,
            docs,
            by_id,
            vocabulary,
            postings,
            idf,
            title_postings,
            title_idf,
            title_norm,
            skill_docs,
            skills_by_term,
            skill_weight,
            duplicates: groups,
            romes,
        }
    }

    /// Number of offers.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The docs posted as the same job as `doc`, itself included.
    pub(crate) fn group_of(&self, doc: u32) -> impl Iterator<Item = u32> + '_ {
        let group = self.duplicates.get(&self.docs[doc as usize].duplicate_key);
        let alone = group.is_none().then_some(doc);
        group.into_iter().flatten().copied().chain(alone)
    }

    /// The term's number, when an offer holds it.
    pub(crate) fn term(&self, term: &str) -> Option<u32> {
        self.vocabulary.terms.get(term).copied()
    }

    /// Skills whose terms are those of `terms` (sorted, distinct), or close to them.
    pub(crate) fn skills_like(&self, terms: &[u32]) -> Vec<u32> {
        if terms.is_empty() {
            return Vec::new();
        }
        let mut found: HashSet<u32> = HashSet::new();
        for term in terms {
            for skill in self.skills_by_term.get(term).into_iter().flatten() {
                if found.contains(skill) {
                    continue;
                }
                let theirs = &self.vocabulary.skill_terms[*skill as usize];
                let common = theirs.iter().filter(|t| terms.contains(t)).count();
                let union = theirs.len() + terms.len() - common;
                // Close: most terms shared (a label reworded, a word more or less).
                if common as f32 >= 0.6 * union as f32 {
                    found.insert(*skill);
                }
            }
        }
        let mut found: Vec<u32> = found.into_iter().collect();
        found.sort_unstable();
        found
    }
}
