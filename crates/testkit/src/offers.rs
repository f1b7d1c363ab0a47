//! Job offers for every service's tests, in the shape offre-ingestion reads them: France
//! Travail's (an item of the Offres d'emploi API's `resultats`, or a line of a saved
//! JSON-lines file). One builder, [`Offer`], so that the field names and their shapes
//! (`intitule`, `lieuTravail`, `competences` with their `exigence`, the dates) are
//! written once; the files the pipeline ingests, [`json_lines_file`]; and the details
//! offre-ingestion serves for an offer (`GET /offers`), [`Offer::detail`].
//!
//! ```
//! use testkit::offers::Offer;
//!
//! let offer = Offer::new("DEV0", "Développeur Python (H/F)")
//!     .rome("M1805")
//!     .contract("CDI")
//!     .place("69 - LYON", 45.76, 4.83)
//!     .required("Python")
//!     .wished("Docker")
//!     .json();
//! assert_eq!(offer["competences"][1]["exigence"], "S");
//! ```

use std::io::Write;

use serde_json::{json, Map, Value};

/// When the offers of the tests were created, unless a test says otherwise.
pub const CREATED: &str = "2026-11-20T08:00:00.000Z";
/// When they were last updated, unless a test says otherwise.
pub const UPDATED: &str = "2026-11-26T08:00:00.000Z";

/// A France Travail offer, field by field. Fields not set are absent, as in a real
/// payload that lacks them.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer(Map<String, Value>);

impl Offer {
    /// An offer with its id, its title and its dates ([`CREATED`], [`UPDATED`]).
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self(Map::new())
            .id(id)
            .title(title)
            .created(CREATED)
            .updated(UPDATED)
    }

    pub fn id(self, id: impl Into<String>) -> Self {
        self.with("id", id.into())
    }

    /// `intitule`.
    pub fn title(self, title: impl Into<String>) -> Self {
        self.with("intitule", title.into())
    }

    pub fn description(self, text: impl Into<String>) -> Self {
        self.with("description", text.into())
    }

    /// `romeCode`: the ROME job (`M1805`...).
    pub fn rome(self, code: impl Into<String>) -> Self {
        self.with("romeCode", code.into())
    }

    /// `romeLibelle`.
    pub fn rome_label(self, label: impl Into<String>) -> Self {
        self.with("romeLibelle", label.into())
    }

    /// `typeContrat`: `CDI`, `CDD`, `SAI`...
    pub fn contract(self, code: impl Into<String>) -> Self {
        self.with("typeContrat", code.into())
    }

    /// `typeContratLibelle`.
    pub fn contract_label(self, label: impl Into<String>) -> Self {
        self.with("typeContratLibelle", label.into())
    }

    /// `entreprise.nom`.
    pub fn company(self, name: impl Into<String>) -> Self {
        self.with("entreprise", json!({ "nom": name.into() }))
    }

    /// `lieuTravail`: its label and coordinates.
    pub fn place(self, label: impl Into<String>, latitude: f64, longitude: f64) -> Self {
        self.with(
            "lieuTravail",
            json!({"libelle": label.into(), "latitude": latitude, "longitude": longitude}),
        )
    }

    /// `lieuTravail.codePostal` and `lieuTravail.commune` (its INSEE code), beside the
    /// place's label and coordinates.
    pub fn commune(mut self, postal_code: &str, insee_code: &str) -> Self {
        let place = self.0.entry("lieuTravail").or_insert_with(|| json!({}));
        place["codePostal"] = json!(postal_code);
        place["commune"] = json!(insee_code);
        self
    }

    /// `salaire.libelle`.
    pub fn salary(self, label: impl Into<String>) -> Self {
        self.with("salaire", json!({ "libelle": label.into() }))
    }

    /// `competences`: these skills, all required (`exigence` E); an empty list for none.
    pub fn required_skills(self, labels: &[&str]) -> Self {
        let skills: Vec<Value> = labels
            .iter()
            .map(|label| json!({"libelle": label, "exigence": "E"}))
            .collect();
        self.with("competences", skills)
    }

    /// A skill the offer requires (`exigence` E).
    pub fn required(self, label: impl Into<String>) -> Self {
        self.skill(json!({"libelle": label.into(), "exigence": "E"}))
    }

    /// A skill the offer wishes for (`exigence` S).
    pub fn wished(self, label: impl Into<String>) -> Self {
        self.skill(json!({"libelle": label.into(), "exigence": "S"}))
    }

    /// A skill in any other shape (with its `code`, without `exigence`...).
    pub fn skill(mut self, skill: Value) -> Self {
        let skills = self.0.entry("competences").or_insert_with(|| json!([]));
        skills
            .as_array_mut()
            .expect("competences is a list")
            .push(skill);
        self
    }

    /// `dateCreation` (RFC 3339, as France Travail writes it: `2026-11-20T08:00:00.000Z`).
    pub fn created(self, date: impl Into<String>) -> Self {
        self.with("dateCreation", date.into())
    }

    /// `dateActualisation`.
    pub fn updated(self, date: impl Into<String>) -> Self {
        self.with("dateActualisation", date.into())
    }

    /// Any other field, or another value for one of the above.
    pub fn with(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.0.insert(field.to_owned(), value.into());
        self
    }

    /// The offer without `field` (a payload that lacks it).
    pub fn without(mut self, field: &str) -> Self {
        self.0.remove(field);
        self
    }

    /// The payload.
    pub fn json(self) -> Value {
        Value::Object(self.0)
    }

    /// The details offre-ingestion serves for this offer (`GET /offers`): the same
    /// fields, with the company, the place and the salary as their labels.
    pub fn detail(&self) -> shared::OfferDetail {
        let mut detail = self.0.clone();
        let mut label = |field: &str, key: &str, to: &str| {
            if let Some(value) = detail.get(field).and_then(|v| v.get(key)).cloned() {
                detail.insert(to.to_owned(), value);
            }
        };
        label("entreprise", "nom", "entreprise");
        label("salaire", "libelle", "salaire");
        for (key, to) in [
            ("libelle", "lieu"),
            ("latitude", "latitude"),
            ("longitude", "longitude"),
            ("codePostal", "codePostal"),
        ] {
            label("lieuTravail", key, to);
        }
        detail.remove("lieuTravail");
        serde_json::from_value(Value::Object(detail)).expect("the details of an offer")
    }
}

impl From<Offer> for Value {
    fn from(offer: Offer) -> Self {
        offer.json()
    }
}

/// `offers` as JSON lines: one offer a line, each line ended.
pub fn json_lines(offers: &[Value]) -> String {
    offers.iter().map(|offer| format!("{offer}\n")).collect()
}

/// `offers` in a JSON-lines file of its own (`.jsonl`), as `offre-ingestion ingest
/// --file` reads them; removed when the value returned is dropped.
pub fn json_lines_file(offers: &[Value]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .prefix("offers-")
        .suffix(".jsonl")
        .tempfile()
        .expect("a temporary file");
    file.write_all(json_lines(offers).as_bytes())
        .expect("offers written");
    file
}
