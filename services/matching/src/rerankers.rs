//! The learned re-rankers a request may name ([`ranking::rerank`]): those built into
//! the binary (`ranking::rerank::shipped`, the models of `models/rerankers/` that
//! `make eval` measured) and those of `MATCH_RERANKERS`, read once at start. A file that
//! cannot be read, is not a re-ranker, or reuses another model's id stops the start with
//! one line naming it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ranking::Reranker;

/// Files or directories (every `.json` in them), comma-separated.
pub const VARIABLE: &str = "MATCH_RERANKERS";

/// The re-rankers by id.
#[derive(Debug, Clone, Default)]
pub struct Rerankers(Arc<BTreeMap<String, Reranker>>);

impl Rerankers {
    /// The built-in re-rankers and those `spec` names (`MATCH_RERANKERS`); the error is
    /// one line naming the file at fault.
    pub fn load(spec: Option<&str>) -> Result<Self, String> {
        let mut models: BTreeMap<String, (Reranker, String)> = BTreeMap::new();
        let mut add = |model: Reranker, source: String| -> Result<(), String> {
            match models.get(model.id()) {
                Some((same, _)) if *same == model => Ok(()),
                Some((_, other)) => Err(format!(
                    "{source}: re-ranker id {:?} is already {other}'s (each model needs its own id)",
                    model.id()
                )),
                None => {
                    models.insert(model.id().to_owned(), (model, source));
                    Ok(())
                }
            }
        };
        for model in ranking::rerank::shipped() {
            let source = format!("the built-in {}", model.id());
            add(model, source)?;
        }
        for entry in spec
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            for file in files(Path::new(entry))? {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| format!("{}: cannot read it: {e}", file.display()))?;
                let model = Reranker::from_json(&text)
                    .map_err(|e| format!("{}: not a usable re-ranker: {e}", file.display()))?;
                add(model, file.display().to_string())?;
            }
        }
        Ok(Self(Arc::new(
            models.into_iter().map(|(id, (m, _))| (id, m)).collect(),
        )))
    }

    /// These models alone (tests, benchmarks).
    pub fn of(models: impl IntoIterator<Item = Reranker>) -> Self {
        Self(Arc::new(
            models.into_iter().map(|m| (m.id().to_owned(), m)).collect(),
        ))
    }

    pub fn get(&self, id: &str) -> Option<&Reranker> {
        self.0.get(id)
    }

    /// The ids, in order.
    pub fn ids(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// `path` if it is a file, the `.json` files in it (in name order) if it is a directory.
fn files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("{}: cannot read it: {e}", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(path).map_err(|e| format!("{}: cannot list it: {e}", path.display()))?
    {
        let file = entry
            .map_err(|e| format!("{}: cannot list it: {e}", path.display()))?
            .path();
        if file.extension().is_some_and(|e| e == "json") && file.is_file() {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err(format!(
            "{}: a directory without any .json re-ranker",
            path.display()
        ));
    }
    files.sort();
    Ok(files)
}
