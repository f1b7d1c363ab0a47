//! A candidate's signals over every offer of an [`Index`], and their fusion with the
//! semantic signal (the vectors' cosine, which the caller gets from pgvector).
//!
//! Every signal is in [0, 1], so that the fused score, their weighted mean, is too:
//! - `lexical`: BM25F of the profile's words over the offer's title, skills and body,
//!   divided by the best offer's;
//! - `title`: the best idf-weighted cosine between one of the candidate's job titles and
//!   the offer's title and ROME appellation;
//! - `job`: how well the candidate fits the offer's ROME job, read on the offers of that
//!   job (the mean of its three best `title` or `skills` that are above 0): an offer
//!   whose own title is
//!   worded differently, or that lists no skills, still counts when its job is the
//!   candidate's;
//! - `skills`: the share of the offer's listed skills (required ones double) that the
//!   candidate has, named in the profile's skills or covered by its words;
//! - `keywords`: the candidate's skills found anywhere in the offer's text, saturating
//!   (1 − e^(−n/3));
//! - `family`: the offer's likeness to the offer that fits best on the profile's words,
//!   titles and skills (pseudo-relevance feedback: that offer's most telling words,
//!   scored by BM25F, relative to the best): the jobs next to the candidate's, as a
//!   recruiter would also propose them;
//! - `similar`: the same likeness read on the vectors: the cosine of the offer's
//!   embedding to that offer's (the caller gets it from pgvector).

use std::collections::{HashMap, HashSet};

use crate::index::{Index, OfferMeta};
use crate::text::{Analyzer, Language};

/// What is known of the candidate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Profile<'a> {
    /// The CV's or profile's text.
    pub text: &'a str,
    /// Job titles, most telling first.
    pub titles: &'a [String],
    /// Skill labels.
    pub skills: &'a [String],
    /// The profile's language; told from its text when absent.
    pub language: Option<Language>,
}

/// The weight of each signal in the fused score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub semantic: f32,
    pub lexical: f32,
    pub title: f32,
    pub job: f32,
    pub skills: f32,
    pub keywords: f32,
    pub family: f32,
    pub similar: f32,
}

/// Number of signals.
pub const SIGNALS: usize = 8;

impl Weights {
    pub const NAMES: [&'static str; SIGNALS] = [
        "semantic", "lexical", "title", "job", "skills", "keywords", "family", "similar",
    ];

    pub fn as_array(&self) -> [f32; SIGNALS] {
        [
            self.semantic,
            self.lexical,
            self.title,
            self.job,
            self.skills,
            self.keywords,
            self.family,
            self.similar,
        ]
    }

    pub fn from_array(w: [f32; SIGNALS]) -> Self {
        Self {
            semantic: w[0],
            lexical: w[1],
            title: w[2],
            job: w[3],
            skills: w[4],
            keywords: w[5],
            family: w[6],
            similar: w[7],
        }
    }

    fn total(&self) -> f32 {
        self.as_array().iter().sum()
    }
}

impl Default for Weights {
    /// Tuned on the development sets (`make eval ARGS=--tune`, docs/ranking.md): titles
    /// and skills weigh through `job` and the choice of the feedback offer rather than
    /// on their own, which measured better on both sets.
    fn default() -> Self {
        Self {
            semantic: 0.26,
            lexical: 0.08,
            title: 0.0,
            job: 0.38,
            skills: 0.0,
            keywords: 0.02,
            family: 0.1,
            similar: 0.16,
        }
    }
}

/// `From` between two structs with a field per signal, each field converted by `$cast`.
macro_rules! per_signal {
    ($from:ty => $to:ty, $cast:expr) => {
        impl From<$from> for $to {
            fn from(v: $from) -> Self {
                let cast = $cast;
                Self {
                    semantic: cast(v.semantic),
                    lexical: cast(v.lexical),
                    title: cast(v.title),
                    job: cast(v.job),
                    skills: cast(v.skills),
                    keywords: cast(v.keywords),
                    family: cast(v.family),
                    similar: cast(v.similar),
                }
            }
        }
    };
}

per_signal!(shared::SignalWeights => Weights, |x: f64| x as f32);
per_signal!(Weights => shared::SignalWeights, f64::from);
per_signal!(Signals => shared::MatchSignals, f64::from);
per_signal!(shared::MatchSignals => Signals, |x: f64| x as f32);
// Weights and signals have a field per signal: one `as_array` for both.
per_signal!(Signals => Weights, |x: f32| x);
per_signal!(Weights => Signals, |x: f32| x);

/// One offer's signals.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Signals {
    pub semantic: f32,
    pub lexical: f32,
    pub title: f32,
    pub job: f32,
    pub skills: f32,
    pub keywords: f32,
    pub family: f32,
    pub similar: f32,
}

impl Signals {
    /// The signals in [`Weights::NAMES`]' order.
    pub fn as_array(&self) -> [f32; SIGNALS] {
        Weights::from(*self).as_array()
    }

    /// The signals from values in [`Weights::NAMES`]' order.
    pub fn from_array(values: [f32; SIGNALS]) -> Self {
        Weights::from_array(values).into()
    }

    /// The weighted mean of the signals, in [0, 1].
    pub fn fused(&self, weights: &Weights) -> f32 {
        let total = weights.total();
        if total <= 0.0 {
            return 0.0;
        }
        let w = weights.as_array();
        self.as_array()
            .iter()
            .zip(w)
            .map(|(s, w)| s * w)
            .sum::<f32>()
            / total
    }
}

/// Why an offer matches, for the candidate to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reasons {
    /// The offer's listed skills the candidate has.
    pub skills: Vec<String>,
    /// The candidate's skills, then their words, that the offer's text uses.
    pub keywords: Vec<String>,
}

/// What the vectors say of an offer: its cosine to the candidate's embedding, and to
/// the seed offer's ([`Scoring::seeds`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Vectors {
    pub cosine: f32,
    pub similar: f32,
}

/// A ranked offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub id: String,
    pub score: f32,
    pub signals: Signals,
    pub reasons: Reasons,
    /// The other offers posted as the same job.
    pub duplicates: Vec<String>,
}

/// The best offers for feedback, best first: `family` reads the first, `similar` the
/// first that has an embedding.
const SEEDS: usize = 3;

/// Pseudo-relevance feedback reads the best offer, and keeps this many of its words.
const FEEDBACK_WORDS: usize = 30;

/// How the best offer for feedback is chosen: mostly by words, whose best offer is the
/// right job more often than by titles alone on both development sets (titles still
/// count, through `job`).
const SEED_WEIGHTS: Weights = Weights {
    semantic: 0.0,
    lexical: 0.4,
    title: 0.1,
    job: 0.15,
    skills: 0.05,
    keywords: 0.1,
    family: 0.0,
    similar: 0.0,
};

/// The offers most like the best one that join the candidates besides those of the
/// profile's own signals.
const FAMILY_CANDIDATES: usize = 50;

/// Reasons name at most this many skills and keywords.
const MAX_REASONS: usize = 5;

/// A query term: its number, its weight and the word it was read from.
struct QueryTerm {
    term: u32,
    weight: f32,
    word: String,
}

struct QuerySkill {
    label: String,
    /// Its terms, None when one of them is in no offer (it cannot be found in any).
    terms: Option<Vec<u32>>,
}

/// The profile's signals over every offer.
pub struct Scoring<'i> {
    index: &'i Index,
    terms: Vec<QueryTerm>,
    skills: Vec<QuerySkill>,
    matched_skills: HashSet<u32>,
    /// By doc.
    lexical: Vec<f32>,
    title: Vec<f32>,
    job: Vec<f32>,
    skill_share: Vec<f32>,
    keywords: Vec<f32>,
    family: Vec<f32>,
    /// The offers that fit best, best first: the first's words make `family`, and the
    /// first with an embedding makes `similar`.
    seeds: Vec<u32>,
    /// The profile's words in order (text, titles, skills, apart from each other), as
    /// term numbers (None for a word no offer has), and where each term is.
    sequence: Vec<Option<u32>>,
    positions: HashMap<u32, Vec<usize>>,
}

impl Index {
    /// Scores every offer for `profile` on every signal but the semantic one.
    pub fn score(&self, profile: &Profile) -> Scoring<'_> {
        let n = self.docs.len();
        let language = profile
            .language
            .unwrap_or_else(|| Language::detect(profile.text));
        let titles = titles_of(profile);
        let terms = self.query_terms(profile, &titles, language);
        let mut scoring = Scoring {
            index: self,
            terms,
            skills: Vec::new(),
            matched_skills: HashSet::new(),
            lexical: vec![0.0; n],
            title: vec![0.0; n],
            job: vec![0.0; n],
            skill_share: vec![0.0; n],
            keywords: vec![0.0; n],
            family: vec![0.0; n],
            seeds: Vec::new(),
            sequence: Vec::new(),
            positions: HashMap::new(),
        };
        scoring.read_in_order(profile, &titles, language);
        scoring.bm25();
        scoring.titles(&titles, language);
        scoring.skills(profile.skills, language);
        scoring.jobs();
        scoring.family();
        scoring
    }

    /// The profile's distinct terms, read in French and in English (a term of the other
    /// language meets offers of that language, or none), each of weight one; those of
    /// its titles and skills weigh more.
    fn query_terms(
        &self,
        profile: &Profile,
        titles: &[(String, f32)],
        language: Language,
    ) -> Vec<QueryTerm> {
        let analyzer = Analyzer::get();
        let mut by_term: HashMap<u32, QueryTerm> = HashMap::new();
        let mut add = |text: &str, weight: f32| {
            for lang in [language, other(language)] {
                for (word, term) in analyzer.terms(text, lang) {
                    if let Some(term) = self.term(&term) {
                        let entry = by_term.entry(term).or_insert_with(|| QueryTerm {
                            term,
                            weight: 0.0,
                            word: word.to_owned(),
                        });
                        entry.weight = entry.weight.max(weight);
                    }
                }
            }
        };
        add(profile.text, 1.0);
        for (title, _) in titles {
            add(title, TITLE_TERM_WEIGHT);
        }
        for skill in profile.skills {
            add(skill, 1.0);
        }
        let mut terms: Vec<QueryTerm> = by_term.into_values().collect();
        terms.sort_unstable_by_key(|t| t.term);
        terms
    }
}

/// The weight of a word of the candidate's job titles in the lexical signal.
const TITLE_TERM_WEIGHT: f32 = 2.0;

fn other(language: Language) -> Language {
    match language {
        Language::French => Language::English,
        Language::English => Language::French,
    }
}

/// The candidate's job titles with their weights, the first weighing most.
fn titles_of(profile: &Profile) -> Vec<(String, f32)> {
    let mut titles: Vec<(String, f32)> = Vec::new();
    for title in profile.titles.iter().take(shared::MAX_PROFILE_TITLES) {
        let title = title.trim();
        if !title.is_empty() && !titles.iter().any(|(t, _)| t.eq_ignore_ascii_case(title)) {
            let weight = (1.0 - 0.1 * titles.len() as f32).max(0.5);
            titles.push((title.to_owned(), weight));
        }
    }
    titles
}

impl Scoring<'_> {
    fn read_in_order(&mut self, profile: &Profile, titles: &[(String, f32)], language: Language) {
        let analyzer = Analyzer::get();
        let parts = std::iter::once(profile.text)
            .chain(titles.iter().map(|(t, _)| t.as_str()))
            .chain(profile.skills.iter().map(String::as_str));
        for part in parts {
            for (_, term) in analyzer.terms(part, language) {
                self.sequence.push(self.index.term(&term));
            }
            // Parts apart: no window spans two of them.
            self.sequence.extend(std::iter::repeat_n(None, PART_GAP));
        }
        for (at, term) in self.sequence.iter().enumerate() {
            if let Some(term) = term {
                self.positions.entry(*term).or_default().push(at);
            }
        }
    }

    fn bm25(&mut self) {
        let index = self.index;
        for t in &self.terms {
            let idf = index.idf[t.term as usize] * t.weight;
            for p in &index.postings[t.term as usize] {
                self.lexical[p.doc as usize] += idf * p.weight;
            }
        }
        normalize_by_max(&mut self.lexical);
    }

    fn titles(&mut self, titles: &[(String, f32)], language: Language) {
        let index = self.index;
        let analyzer = Analyzer::get();
        // Idf of a word no title holds: it still counts in the title's norm, so that a
        // title matches an offer less when part of it is found nowhere.
        let unseen = index
            .title_idf
            .iter()
            .copied()
            .fold(0.0f32, f32::max)
            .max(1.0);
        let mut dot = vec![0f32; index.docs.len()];
        let mut touched: Vec<u32> = Vec::new();
        for (title, weight) in titles {
            let mut terms: Vec<Option<u32>> = analyzer
                .terms(title, language)
                .map(|(_, t)| index.term(&t))
                .collect();
            terms.sort_unstable();
            terms.dedup();
            let norm = terms
                .iter()
                .map(|t| match t {
                    Some(t) if !index.title_postings[*t as usize].is_empty() => {
                        index.title_idf[*t as usize].powi(2)
                    }
                    _ => unseen.powi(2),
                })
                .sum::<f32>()
                .sqrt();
            if norm == 0.0 {
                continue;
            }
            for term in terms.iter().flatten() {
                let idf2 = index.title_idf[*term as usize].powi(2);
                for doc in &index.title_postings[*term as usize] {
                    if dot[*doc as usize] == 0.0 {
                        touched.push(*doc);
                    }
                    dot[*doc as usize] += idf2;
                }
            }
            for doc in touched.drain(..) {
                let d = doc as usize;
                let cosine = dot[d] / (norm * index.title_norm[d]).max(f32::EPSILON);
                self.title[d] = self.title[d].max(weight * cosine.min(1.0));
                dot[d] = 0.0;
            }
        }
    }

    fn jobs(&mut self) {
        let index = self.index;
        // The three best fits of each ROME job, a fit being an offer's title or skills
        // signal, whichever says more.
        let mut best = vec![[0f32; 3]; index.romes];
        for (d, rome) in index.rome_of.iter().enumerate() {
            let fit = self.title[d].max(self.skill_share[d]);
            let Some(rome) = rome else {
                continue;
            };
            // Kept in order by hand: a sort call per improvement cost more than the loop.
            let top = &mut best[*rome as usize];
            if fit > top[0] {
                *top = [fit, top[0], top[1]];
            } else if fit > top[1] {
                *top = [top[0], fit, top[1]];
            } else if fit > top[2] {
                top[2] = fit;
            }
        }
        let fit: Vec<f32> = best
            .iter()
            .map(|top| {
                let n = top.iter().filter(|s| **s > 0.0).count().max(1);
                top.iter().sum::<f32>() / n as f32
            })
            .collect();
        for (d, rome) in index.rome_of.iter().enumerate() {
            if let Some(rome) = rome {
                self.job[d] = fit[*rome as usize];
            }
        }
    }

    fn skills(&mut self, labels: &[String], language: Language) {
        let index = self.index;
        let analyzer = Analyzer::get();
        for label in labels.iter().take(shared::MAX_PROFILE_SKILLS) {
            let mut terms = Vec::new();
            let mut known = true;
            for (_, term) in analyzer.terms(label, language) {
                match index.term(&term) {
                    Some(t) => terms.push(t),
                    None => known = false,
                }
            }
            terms.sort_unstable();
            terms.dedup();
            if terms.is_empty() {
                continue;
            }
            // One skill written twice ("Python", "python") counts once.
            if self.skills.iter().any(|s| s.terms.as_ref() == Some(&terms)) {
                continue;
            }
            if known {
                self.matched_skills.extend(index.skills_like(&terms));
            }
            self.skills.push(QuerySkill {
                label: label.clone(),
                terms: known.then_some(terms),
            });
        }
        // The offers' skills the profile's words cover (a CV made on France Travail's
        // site names its skills as the offers do): all the label's words, or most of a
        // long one, close together (anywhere in a long CV, the three words of "utiliser
        // un logiciel de paie" are no skill).
        let mut hits: HashMap<u32, usize> = HashMap::new();
        for t in &self.terms {
            for skill in index.skills_by_term.get(&t.term).into_iter().flatten() {
                *hits.entry(*skill).or_default() += 1;
            }
        }
        for (skill, n) in hits {
            let terms = &index.vocabulary.skill_terms[skill as usize];
            let needed = needed_terms(terms.len());
            if n >= needed && self.near_each_other(terms, needed) {
                self.matched_skills.insert(skill);
            }
        }
        let mut matched = vec![0f32; index.docs.len()];
        for skill in &self.matched_skills {
            for (doc, required) in &index.skill_docs[*skill as usize] {
                matched[*doc as usize] += if *required { 2.0 } else { 1.0 };
            }
        }
        for (d, m) in matched.iter().enumerate() {
            if *m > 0.0 {
                self.skill_share[d] = (m / index.skill_weight[d]).min(1.0);
            }
        }
        let mut found = vec![0u16; index.docs.len()];
        for skill in &self.skills {
            if let Some(terms) = &skill.terms {
                for doc in docs_with_all(index, terms) {
                    found[doc as usize] += 1;
                }
            }
        }
        for (d, n) in found.iter().enumerate() {
            self.keywords[d] = 1.0 - (-f32::from(*n) / 3.0).exp();
        }
    }

    /// The weighted signals of the profile's own words, titles and skills.
    fn partial(&self, d: usize, weights: &Weights) -> f32 {
        self.lexical[d] * weights.lexical
            + self.title[d] * weights.title
            + self.job[d] * weights.job
            + self.skill_share[d] * weights.skills
            + self.keywords[d] * weights.keywords
    }

    /// Pseudo-relevance feedback: the words that say most about the offer that fits best
    /// on the profile's own signals ([`SEED_WEIGHTS`]), then every offer scored by BM25F
    /// on them.
    fn family(&mut self) {
        let index = self.index;
        let mut best: Vec<(f32, usize)> = (0..index.docs.len())
            .map(|d| (self.partial(d, &SEED_WEIGHTS), d))
            .filter(|(p, _)| *p > 0.0)
            .collect();
        let by_score = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if best.len() > SEEDS {
            best.select_nth_unstable_by(SEEDS, by_score);
            best.truncate(SEEDS);
        }
        best.sort_unstable_by(by_score);
        self.seeds = best.iter().map(|(_, d)| *d as u32).collect();
        let Some(&seed) = self.seeds.first() else {
            return;
        };
        let mut words: HashMap<u32, f32> = HashMap::new();
        for field in &index.docs[seed as usize].fields {
            for (term, tf) in field {
                *words.entry(*term).or_default() += f32::from(*tf) * index.idf[*term as usize];
            }
        }
        let mut words: Vec<(u32, f32)> = words.into_iter().collect();
        words.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        words.truncate(FEEDBACK_WORDS);
        for (term, weight) in words {
            for p in &index.postings[term as usize] {
                self.family[p.doc as usize] += weight * p.weight;
            }
        }
        // The best offer (and its twins) is no evidence of its own likeness: it counts as
        // much as the offer most like it, so that feedback lifts its neighbours without
        // locking a first guess at the top.
        let group: Vec<u32> = index.group_of(seed).collect();
        let most_like = self
            .family
            .iter()
            .enumerate()
            .filter(|(d, _)| !group.contains(&(*d as u32)))
            .map(|(_, f)| *f)
            .fold(0.0f32, f32::max);
        for d in group {
            self.family[d as usize] = most_like;
        }
        normalize_by_max(&mut self.family);
    }

    /// Whether `needed` of `terms` occur within a few words of each other in the
    /// profile's text, titles or skills.
    fn near_each_other(&self, terms: &[u32], needed: usize) -> bool {
        let window = terms.len() + 3;
        let Some(rarest) = terms
            .iter()
            .filter_map(|t| self.positions.get(t))
            .min_by_key(|p| p.len())
        else {
            return false;
        };
        rarest.iter().any(|&at| {
            let from = at.saturating_sub(window);
            let to = (at + window + 1).min(self.sequence.len());
            let mut seen: Vec<u32> = self.sequence[from..to]
                .iter()
                .flatten()
                .copied()
                .filter(|t| terms.contains(t))
                .collect();
            seen.sort_unstable();
            seen.dedup();
            seen.len() >= needed
        })
    }

    /// The signals of an offer (the semantic one left at 0); None for an offer the index
    /// does not hold.
    pub fn signals(&self, id: &str) -> Option<Signals> {
        let d = *self.index.by_id.get(id)? as usize;
        Some(Signals {
            semantic: 0.0,
            lexical: self.lexical[d],
            title: self.title[d],
            job: self.job[d],
            skills: self.skill_share[d],
            keywords: self.keywords[d],
            family: self.family[d],
            similar: 0.0,
        })
    }

    /// The offers that fit best on the profile's own words, titles and skills, best
    /// first (none when nothing fits): `similar` is the likeness of an offer's vector to
    /// the first of them that has one.
    pub fn seeds(&self) -> Vec<String> {
        self.seeds
            .iter()
            .map(|d| self.index.docs[*d as usize].id.to_string())
            .collect()
    }

    /// The `n` offers that pass `filter` with the best fused score of every signal but
    /// the semantic one: the lexical side's candidates.
    pub fn candidates(
        &self,
        weights: &Weights,
        n: usize,
        filter: impl Fn(&OfferMeta) -> bool,
    ) -> Vec<String> {
        let by_score = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        let best = |score: &dyn Fn(usize) -> f32, n: usize| {
            let mut scored: Vec<(f32, u32)> = (0..self.index.docs.len())
                .filter_map(|d| {
                    let s = score(d);
                    (s > 0.0).then_some((s, d as u32))
                })
                .collect();
            // The filter (string comparisons) is read for the best few only, four times
            // as many as wanted, then more while too few of those pass: reading it for
            // every offer was most of a filtered search's time.
            let mut shortlist = n.saturating_mul(4);
            let mut passing = loop {
                if scored.len() > shortlist {
                    scored.select_nth_unstable_by(shortlist, by_score);
                }
                let head = &scored[..shortlist.min(scored.len())];
                let passing: Vec<(f32, u32)> = head
                    .iter()
                    .filter(|(_, d)| filter(&self.index.docs[*d as usize].meta))
                    .copied()
                    .collect();
                if passing.len() >= n || head.len() == scored.len() {
                    break passing;
                }
                shortlist = shortlist.saturating_mul(4);
            };
            if passing.len() > n {
                passing.select_nth_unstable_by(n, by_score);
                passing.truncate(n);
            }
            passing.sort_unstable_by(by_score);
            passing
        };
        let mut docs = best(
            &|d| self.partial(d, weights) + self.family[d] * weights.family,
            n,
        );
        // The offers most like the best one, which the profile's own signals rank lower.
        if weights.family > 0.0 {
            let have: HashSet<u32> = docs.iter().map(|(_, d)| *d).collect();
            docs.extend(
                best(&|d| self.family[d], FAMILY_CANDIDATES)
                    .into_iter()
                    .filter(|(_, d)| !have.contains(d)),
            );
        }
        docs.into_iter()
            .map(|(_, d)| self.index.docs[d as usize].id.to_string())
            .collect()
    }

    /// The best `limit` offers of those whose vectors' signals are known, best first
    /// (ties by id), one per job posted several times (its other ids listed, those that
    /// pass `filter`). `seed` is the offer whose embedding `similar` was read against.
    pub fn fuse(
        &self,
        vectors: &HashMap<String, Vectors>,
        seed: Option<&str>,
        weights: &Weights,
        limit: usize,
        filter: impl Fn(&OfferMeta) -> bool,
    ) -> Vec<Ranked> {
        let index = self.index;
        // The seed's likeness to itself (and its twins') is no evidence (see `family`):
        // it counts as much as the offer most like it.
        let seed_group = seed
            .and_then(|id| index.by_id.get(id))
            .map(|d| index.docs[*d as usize].duplicate_key);
        let in_seed_group = |id: &str| {
            seed_group.is_some()
                && index
                    .by_id
                    .get(id)
                    .map(|d| index.docs[*d as usize].duplicate_key)
                    == seed_group
        };
        let most_like_seed = vectors
            .iter()
            .filter(|(id, _)| !in_seed_group(id))
            .map(|(_, v)| v.similar)
            .fold(0.0f32, f32::max);
        let mut ranked: Vec<(f32, &String, Signals)> = vectors
            .iter()
            .map(|(id, v)| {
                let mut signals = self.signals(id).unwrap_or_default();
                signals.semantic = v.cosine.clamp(0.0, 1.0);
                let similar = if in_seed_group(id) {
                    most_like_seed
                } else {
                    v.similar
                };
                signals.similar = similar.clamp(0.0, 1.0);
                (signals.fused(weights), id, signals)
            })
            .collect();
        ranked.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let mut seen_jobs: HashSet<u64> = HashSet::new();
        let mut out = Vec::with_capacity(limit);
        for (score, id, signals) in ranked {
            if out.len() == limit {
                break;
            }
            let doc = index.by_id.get(id.as_str()).copied();
            let mut duplicates = Vec::new();
            if let Some(doc) = doc {
                if !seen_jobs.insert(index.docs[doc as usize].duplicate_key) {
                    continue;
                }
                duplicates = index
                    .group_of(doc)
                    .filter(|d| *d != doc && filter(&index.docs[*d as usize].meta))
                    .map(|d| index.docs[d as usize].id.to_string())
                    .collect();
            }
            out.push(Ranked {
                id: id.clone(),
                score,
                signals,
                reasons: doc.map(|d| self.reasons(d)).unwrap_or_default(),
                duplicates,
            });
        }
        out
    }

    fn reasons(&self, doc: u32) -> Reasons {
        let index = self.index;
        let d = &index.docs[doc as usize];
        let skills = d
            .skills
            .iter()
            .filter(|(s, _)| self.matched_skills.contains(s))
            .map(|(s, _)| index.vocabulary.skill_labels[*s as usize].clone())
            .take(MAX_REASONS)
            .collect();
        let holds = |term: u32| {
            d.fields
                .iter()
                .any(|f| f.binary_search_by_key(&term, |(t, _)| *t).is_ok())
        };
        let mut keywords: Vec<String> = self
            .skills
            .iter()
            .filter(|s| {
                s.terms
                    .as_ref()
                    .is_some_and(|t| t.iter().all(|t| holds(*t)))
            })
            .map(|s| s.label.clone())
            .take(MAX_REASONS)
            .collect();
        if keywords.len() < 3 {
            // Then the words that weigh most in the lexical signal.
            let mut words: Vec<(f32, &str)> = self
                .terms
                .iter()
                .filter_map(|t| {
                    let postings = &index.postings[t.term as usize];
                    let at = postings.binary_search_by_key(&doc, |p| p.doc).ok()?;
                    Some((
                        index.idf[t.term as usize] * t.weight * postings[at].weight,
                        t.word.as_str(),
                    ))
                })
                .collect();
            words.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
            for (_, word) in words {
                if keywords.len() == 3 {
                    break;
                }
                let plain = shared::text::fold(word);
                if !keywords
                    .iter()
                    .any(|k| shared::text::fold(k).contains(&plain))
                {
                    keywords.push(word.to_owned());
                }
            }
        }
        Reasons { skills, keywords }
    }
}

/// Empty positions between the parts of a profile (longer than any skill's window).
const PART_GAP: usize = 64;

/// How many of a skill label's words the profile must have: all of a short label, most
/// of a long one.
fn needed_terms(len: usize) -> usize {
    if len >= 4 {
        (len * 4).div_ceil(5)
    } else {
        len
    }
}

/// The docs that hold every term of `terms`, in doc order.
fn docs_with_all(index: &Index, terms: &[u32]) -> Vec<u32> {
    let mut lists: Vec<&Vec<crate::index::Posting>> =
        terms.iter().map(|t| &index.postings[*t as usize]).collect();
    lists.sort_unstable_by_key(|l| l.len());
    let Some((first, rest)) = lists.split_first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|p| p.doc)
        .filter(|doc| {
            rest.iter()
                .all(|l| l.binary_search_by_key(doc, |p| p.doc).is_ok())
        })
        .collect()
}

fn normalize_by_max(values: &mut [f32]) {
    let max = values.iter().copied().fold(0.0f32, f32::max);
    if max > 0.0 {
        for v in values.iter_mut() {
            *v /= max;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Builder, DocSkill, FieldWeights, OfferDoc};

    fn offer(id: &str, title: &str, rome: &str, skills: &[&str], description: &str) -> OfferDoc {
        OfferDoc {
            id: id.into(),
            title: title.into(),
            rome_code: Some(rome.into()),
            skills: skills
                .iter()
                .map(|s| DocSkill {
                    label: (*s).into(),
                    required: true,
                })
                .collect(),
            description: Some(description.into()),
            company: Some(format!("Entreprise {id}")),
            location: Some("Lyon".into()),
            ..OfferDoc::default()
        }
    }

    fn index(offers: &[OfferDoc]) -> Index {
        let mut builder = Builder::new(FieldWeights::default());
        for o in offers {
            builder.upsert(o);
        }
        builder.snapshot()
    }

    fn profile<'a>(text: &'a str, titles: &'a [String], skills: &'a [String]) -> Profile<'a> {
        Profile {
            text,
            titles,
            skills,
            language: Some(Language::French),
        }
    }

    #[test]
    fn a_skill_is_covered_by_its_words_together_not_scattered_over_the_cv() {
        let index = index(&[offer(
            "PAY",
            "Gestionnaire de paie",
            "M1501",
            &["Utiliser un logiciel de paie"],
            "Paie.",
        )]);
        let scattered = "J'utilise Git au quotidien pour versionner le code des équipes.\nConception du logiciel de gestion des comptes, revue de code et tests automatisés.\nTraitement des flux de paiement de la banque.\n";
        let near = "Compétences : utiliser un logiciel de paie (Silae)";
        for (text, covered) in [(scattered, false), (near, true)] {
            let scoring = index.score(&profile(text, &[], &[]));
            assert_eq!(
                scoring.signals("PAY").unwrap().skills > 0.0,
                covered,
                "{text}"
            );
        }
    }

    #[test]
    fn an_offer_of_the_candidates_rome_job_counts_though_worded_otherwise() {
        let index = index(&[
            offer(
                "A",
                "Peintre industriel",
                "H3404",
                &[],
                "Peinture de pièces métalliques.",
            ),
            offer(
                "B",
                "Gelcoteur",
                "H3404",
                &[],
                "Application de gelcoat sur moules.",
            ),
            offer("C", "Boulanger", "D1102", &[], "Fabrication du pain."),
        ]);
        let titles = ["Peintre industrielle".to_owned()];
        let scoring = index.score(&profile("", &titles, &[]));
        let (a, b, c) = (
            scoring.signals("A").unwrap(),
            scoring.signals("B").unwrap(),
            scoring.signals("C").unwrap(),
        );
        assert!(a.title > 0.9 && b.title == 0.0, "{a:?} {b:?}");
        assert!(
            b.job > 0.9 && c.job == 0.0,
            "the painter's ROME job: {b:?} {c:?}"
        );
    }

    #[test]
    fn filtered_candidates_are_the_best_that_pass_even_far_down_the_list() {
        // The 24 offers that fit best are CDIs; the CDDs come after them all.
        let mut offers = Vec::new();
        for i in 0..24 {
            offers.push(offer(
                &format!("CDI{i:02}"),
                "Développeur Python",
                "M1805",
                &[],
                &format!("Python, Django et PostgreSQL pour l'équipe {i}."),
            ));
        }
        for i in 0..6 {
            let mut cdd = offer(
                &format!("CDD{i}"),
                "Technicien support",
                "I1401",
                &[],
                &format!("Support des utilisateurs, un peu de Python ({i} scripts)."),
            );
            cdd.meta.contract_type = Some("CDD".into());
            offers.push(cdd);
        }
        let index = index(&offers);
        let titles = ["Développeuse Python".to_owned()];
        let scoring = index.score(&profile("Python, Django, PostgreSQL", &titles, &[]));
        let weights = Weights {
            family: 0.0,
            ..Weights::default()
        };
        let every = scoring.candidates(&weights, 100, |_| true);
        let is_cdd = |m: &OfferMeta| m.contract_type.as_deref() == Some("CDD");
        let expected: Vec<&String> = every
            .iter()
            .filter(|id| id.starts_with("CDD"))
            .take(3)
            .collect();
        assert_eq!(expected.len(), 3);
        assert!(
            every[..24].iter().all(|id| id.starts_with("CDI")),
            "{every:?}"
        );
        let filtered = scoring.candidates(&weights, 3, is_cdd);
        assert_eq!(filtered.iter().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn a_job_posted_twice_is_listed_once_with_its_other_ids() {
        let dev = offer(
            "D1",
            "Développeur Python",
            "M1805",
            &["Python"],
            "API en Python.",
        );
        let twin = OfferDoc {
            id: "D2".into(),
            ..dev.clone()
        };
        let index = index(&[dev, twin, offer("N1", "Infirmier", "J1506", &[], "Soins.")]);
        let skills = ["Python".to_owned()];
        let scoring = index.score(&profile("Développeuse Python", &[], &skills));
        let vectors: HashMap<String, Vectors> = ["D1", "D2", "N1"]
            .iter()
            .map(|id| {
                (
                    id.to_string(),
                    Vectors {
                        cosine: 0.5,
                        similar: 0.0,
                    },
                )
            })
            .collect();
        let ranked = scoring.fuse(&vectors, None, &Weights::default(), 10, |_| true);
        let ids: Vec<&str> = ranked.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["D1", "N1"]);
        assert_eq!(ranked[0].duplicates, ["D2"]);
        assert_eq!(ranked[0].reasons.skills, ["Python"]);
        assert!(ranked.iter().all(|r| (0.0..=1.0).contains(&r.score)));
    }
}
