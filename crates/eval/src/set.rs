//! An evaluation set: a folder with `offers.json.gz` (France Travail search-response
//! shape), `cvs/*.txt` and `qrels.tsv` (`cv file<TAB>offer id<TAB>grade`, grade 0 left
//! out), as `../shared/eval-dev/` has them.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Grades of the relevant offers of each CV.
pub type Qrels = BTreeMap<String, HashMap<String, u8>>;

/// A run: each CV's offers, best first.
pub type RunFile = BTreeMap<String, Vec<String>>;

pub struct EvalSet {
    pub dir: PathBuf,
    /// The folder's name (`fr`, `en`).
    pub name: String,
    /// CV file name and its bytes, by name.
    pub cvs: BTreeMap<String, Vec<u8>>,
    pub qrels: Qrels,
}

impl EvalSet {
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let dir = dir
            .canonicalize()
            .with_context(|| format!("no set folder at {}", dir.display()))?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "set".into());
        let offers = dir.join("offers.json.gz");
        anyhow::ensure!(offers.is_file(), "{} is missing", offers.display());
        let mut cvs = BTreeMap::new();
        let cv_dir = dir.join("cvs");
        for entry in std::fs::read_dir(&cv_dir)
            .with_context(|| format!("cannot read {}", cv_dir.display()))?
        {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "txt") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                cvs.insert(name, std::fs::read(&path)?);
            }
        }
        let qrels_path = dir.join("qrels.tsv");
        let text = std::fs::read_to_string(&qrels_path)
            .with_context(|| format!("cannot read {}", qrels_path.display()))?;
        let qrels = parse_qrels(&text)?;
        anyhow::ensure!(!qrels.is_empty(), "{} lists no CV", qrels_path.display());
        Ok(Self {
            dir,
            name,
            cvs,
            qrels,
        })
    }

    pub fn offers_path(&self) -> PathBuf {
        self.dir.join("offers.json.gz")
    }

    /// The offers as France Travail JSON objects, in the file's order.
    pub fn offers(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(self.offers_path())?)
            .read_to_string(&mut text)?;
        let root: serde_json::Value = serde_json::from_str(&text)?;
        match root.get("resultats").and_then(|r| r.as_array()) {
            Some(offers) => Ok(offers.clone()),
            None => anyhow::bail!("offers.json.gz has no \"resultats\" array"),
        }
    }
}

pub fn parse_qrels(text: &str) -> anyhow::Result<Qrels> {
    let mut qrels = Qrels::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [cv, offer, grade] = fields[..] else {
            anyhow::bail!("qrels.tsv line {}: expected 3 tab-separated fields", n + 1);
        };
        let grade: u8 = grade
            .trim()
            .parse()
            .with_context(|| format!("qrels.tsv line {}: grade {grade:?}", n + 1))?;
        qrels
            .entry(cv.to_owned())
            .or_default()
            .insert(offer.to_owned(), grade);
    }
    Ok(qrels)
}
