//! The BM25 keyword baseline of `../shared/eval-dev/score.py`, ported so that `make eval`
//! computes it in the same run as the product's rankings: scikit-learn's
//! `CountVectorizer` analysis (lower case, accents stripped by NFKD, tokens of two or more
//! word characters, score.py's French stop words or scikit-learn's English ones), BM25
//! (k1 = 1.2, b = 0.75, idf = ln(1 + (N − df + 0.5) / (df + 0.5))) over each offer's title,
//! description and skill labels, with the CV's distinct words as the query; ties go to
//! the offer that comes first in the file.

use std::collections::{HashMap, HashSet};

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::set::RunFile;

const FRENCH_STOP: &str = "au aux avec ce ces dans de des du elle en et eux il je la le les leur lui ma mais me meme mes moi
        mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous
        c d j l a m n s t y ete etre avoir est sont h f hf cdi cdd poste";
const ENGLISH_STOP: &str = include_str!("../data/glasgow_stop_words.txt");

/// What score.py indexes of an offer: its title, description and skill labels.
pub fn offer_text(offer: &serde_json::Value) -> String {
    let field = |name: &str| offer.get(name).and_then(|v| v.as_str()).unwrap_or("");
    let skills: Vec<&str> = offer
        .get("competences")
        .and_then(|c| c.as_array())
        .map(|skills| {
            skills
                .iter()
                .map(|s| s.get("libelle").and_then(|l| l.as_str()).unwrap_or(""))
                .collect()
        })
        .unwrap_or_default();
    format!(
        "{}\n{}\n{}",
        field("intitule"),
        field("description"),
        skills.join(" ")
    )
}

/// Whether a set's offers are French (score.py is told; here it is read from them).
pub fn is_french(offers: &[serde_json::Value]) -> bool {
    let (mut french, mut english) = (0usize, 0usize);
    for offer in offers.iter().take(200) {
        for word in tokens(&offer_text(offer)) {
            french += usize::from(matches!(
                word.as_str(),
                "les" | "des" | "pour" | "avec" | "vous"
            ));
            english += usize::from(matches!(
                word.as_str(),
                "the" | "and" | "with" | "for" | "you"
            ));
        }
    }
    french >= english
}

/// scikit-learn's analysis without the stop words: lower case, NFKD without combining
/// marks, runs of two or more word characters.
fn tokens(text: &str) -> Vec<String> {
    let plain: String = text
        .to_lowercase()
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .collect();
    plain
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| t.chars().count() >= 2)
        .map(str::to_owned)
        .collect()
}

/// The baseline's top 20 for each CV.
pub fn bm25_run(offers: &[serde_json::Value], cvs: &[(String, String)], french: bool) -> RunFile {
    let stop: HashSet<&str> = if french {
        FRENCH_STOP.split_whitespace().collect()
    } else {
        ENGLISH_STOP
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect()
    };
    let analyze = |text: &str| -> Vec<String> {
        tokens(text)
            .into_iter()
            .filter(|t| !stop.contains(t.as_str()))
            .collect()
    };
    let mut vocabulary: HashMap<String, usize> = HashMap::new();
    let mut docs: Vec<HashMap<usize, f64>> = Vec::with_capacity(offers.len());
    let mut lengths = Vec::with_capacity(offers.len());
    for offer in offers {
        let mut counts: HashMap<usize, f64> = HashMap::new();
        let words = analyze(&offer_text(offer));
        lengths.push(words.len() as f64);
        for word in words {
            let next = vocabulary.len();
            *counts
                .entry(*vocabulary.entry(word).or_insert(next))
                .or_default() += 1.0;
        }
        docs.push(counts);
    }
    let n = docs.len() as f64;
    let average = lengths.iter().sum::<f64>() / n.max(1.0);
    let mut df = vec![0f64; vocabulary.len()];
    for doc in &docs {
        for term in doc.keys() {
            df[*term] += 1.0;
        }
    }
    let (k1, b) = (1.2, 0.75);
    let mut postings: Vec<Vec<(usize, f64)>> = vec![Vec::new(); vocabulary.len()];
    for (d, doc) in docs.iter().enumerate() {
        for (term, tf) in doc {
            let idf = (1.0 + (n - df[*term] + 0.5) / (df[*term] + 0.5)).ln();
            let weight = tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * lengths[d] / average)) * idf;
            postings[*term].push((d, weight));
        }
    }
    let ids: Vec<String> = offers
        .iter()
        .map(|o| match &o["id"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    cvs.iter()
        .map(|(name, text)| {
            let query: HashSet<usize> = analyze(text)
                .iter()
                .filter_map(|w| vocabulary.get(w).copied())
                .collect();
            let mut scores = vec![0f64; docs.len()];
            for term in query {
                for (d, w) in &postings[term] {
                    scores[*d] += w;
                }
            }
            let mut order: Vec<usize> = (0..docs.len()).collect();
            order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
            (
                name.clone(),
                order
                    .into_iter()
                    .take(crate::metrics::K)
                    .map(|d| ids[d].clone())
                    .collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn analysis_is_scikit_learns() {
        assert_eq!(
            tokens("Développeur C++ (H/F) — l'équipe_2 Œuvre"),
            ["developpeur", "equipe_2", "œuvre"]
        );
    }

    #[test]
    fn the_offer_that_shares_the_rarer_words_comes_first() {
        let offers = vec![
            json!({"id": "A", "intitule": "Boulanger", "description": "pain et viennoiserie"}),
            json!({"id": "B", "intitule": "Plombier chauffagiste", "description": "chauffage sanitaire",
                   "competences": [{"libelle": "Poser des sanitaires"}]}),
            json!({"id": "C", "intitule": "Vendeur", "description": "vente de pain"}),
        ];
        let cvs = vec![("cv".to_owned(), "Plombier, chauffage, pain".to_owned())];
        let run = bm25_run(&offers, &cvs, true);
        assert_eq!(run["cv"], ["B", "A", "C"]);
        assert!(is_french(&offers));
    }
}
