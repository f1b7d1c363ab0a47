//! Silver: a France Travail offer payload to typed columns and skills.
//!
//! Real offers (see the architecture's notes) have no `null`s but absent keys and empty
//! objects, partial places, numeric partner ids, free-form salaries, HTML entities (some
//! double-escaped) and fields that come and go with API versions. Unknown fields are
//! ignored here (bronze keeps them). A payload that cannot be normalised (no id, no title,
//! a known field of the wrong type) is refused with a reason naming the field.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Why a payload cannot be normalised; stored with it in the quarantine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

#[derive(Debug, Clone, PartialEq)]
pub struct Skill {
    pub code: Option<String>,
    pub label: String,
    /// Exigence E (true) or S (false); None when absent.
    pub required: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Offer {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub company_name: Option<String>,
    pub location_label: Option<String>,
    pub postal_code: Option<String>,
    pub commune_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub contract_type: Option<String>,
    pub contract_label: Option<String>,
    pub experience_code: Option<String>,
    pub experience_label: Option<String>,
    pub salary_label: Option<String>,
    pub rome_code: Option<String>,
    pub rome_label: Option<String>,
    pub appellation_label: Option<String>,
    pub sector_code: Option<String>,
    pub sector_label: Option<String>,
    pub qualification_label: Option<String>,
    pub working_time_label: Option<String>,
    pub positions: Option<i32>,
    pub origin_url: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub source_updated_at: Option<DateTime<Utc>>,
    pub skills: Vec<Skill>,
}

/// Longest offer text embedded, in characters. What an offer is (its title, ROME job and
/// skills) ranks better than the body of its description: on the French development set,
/// the same fields cut here gave NDCG@20 0.582 against 0.511 for the model's whole
/// 256-token window (`../shared/notes/ranking-probes.md`); the shorter text also embeds
/// faster.
pub const EMBEDDING_TEXT_CHARS: usize = 400;

impl Offer {
    /// What the offer's embedding is computed from: title, ROME appellation (when it says
    /// more than the title), ROME job, skills, then the description, cut at
    /// [`EMBEDDING_TEXT_CHARS`] on a word boundary.
    pub fn embedding_text(&self) -> String {
        let skills: Vec<&str> = self.skills.iter().map(|s| s.label.as_str()).collect();
        let appellation = self
            .appellation_label
            .as_deref()
            .filter(|a| !self.title.to_lowercase().contains(&a.to_lowercase()));
        let text = [
            Some(self.title.as_str()),
            appellation,
            self.rome_label.as_deref(),
            (!skills.is_empty()).then(|| skills.join(", ")).as_deref(),
            self.description.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
        cut_at_word(&text, EMBEDDING_TEXT_CHARS).to_owned()
    }

    pub fn embedding_text_hash(&self) -> Vec<u8> {
        Sha256::digest(self.embedding_text().as_bytes()).to_vec()
    }
}

/// `text` cut to at most `max` characters, at the last whitespace before the cut when
/// there is one (a word is not cut in two).
fn cut_at_word(text: &str, max: usize) -> &str {
    let Some((end, _)) = text.char_indices().nth(max) else {
        return text;
    };
    let head = &text[..end];
    match head.rfind(char::is_whitespace) {
        Some(space) if space > 0 => head[..space].trim_end(),
        _ => head,
    }
}

/// Normalises one offer payload.
pub fn normalize(payload: &Value) -> Result<Offer, Refusal> {
    let root = payload.as_object().ok_or_else(|| {
        Refusal(format!(
            "an offer must be a JSON object, got {}",
            kind(payload)
        ))
    })?;
    let o = Obj {
        map: root,
        path: "",
    };
    let id = o.id("id")?.ok_or_else(|| Refusal("no id".into()))?;
    let title = o
        .text("intitule")?
        .ok_or_else(|| Refusal("no title (intitule)".into()))?;
    let place = o.obj("lieuTravail")?;
    let company = o.obj("entreprise")?;
    let salary = o.obj("salaire")?;
    let origin = o.obj("origineOffre")?;
    let (latitude, longitude) = match &place {
        Some(p) => (p.number("latitude")?, p.number("longitude")?),
        None => (None, None),
    };
    check_range("lieuTravail.latitude", latitude, 90.0)?;
    check_range("lieuTravail.longitude", longitude, 180.0)?;
    Ok(Offer {
        id,
        title,
        description: o.text("description")?,
        company_name: company
            .as_ref()
            .map(|c| c.text("nom"))
            .transpose()?
            .flatten(),
        location_label: place
            .as_ref()
            .map(|p| p.text("libelle"))
            .transpose()?
            .flatten(),
        postal_code: place
            .as_ref()
            .map(|p| p.code("codePostal"))
            .transpose()?
            .flatten(),
        commune_code: place
            .as_ref()
            .map(|p| p.code("commune"))
            .transpose()?
            .flatten(),
        latitude,
        longitude,
        contract_type: o.code("typeContrat")?,
        contract_label: o.text("typeContratLibelle")?,
        experience_code: o.code("experienceExige")?,
        experience_label: o.text("experienceLibelle")?,
        salary_label: match &salary {
            Some(s) => s.text("libelle")?.or(s.text("commentaire")?),
            None => None,
        },
        rome_code: o.code("romeCode")?,
        rome_label: o.text("romeLibelle")?,
        appellation_label: o.text("appellationlibelle")?,
        sector_code: o.code("codeNAF")?,
        sector_label: o.text("secteurActiviteLibelle")?,
        qualification_label: o.text("qualificationLibelle")?,
        working_time_label: o
            .text("dureeTravailLibelleConverti")?
            .or(o.text("dureeTravailLibelle")?),
        positions: o.integer("nombrePostes")?,
        origin_url: origin
            .as_ref()
            .map(|p| p.text("urlOrigine"))
            .transpose()?
            .flatten(),
        published_at: o.date("dateCreation")?,
        source_updated_at: o.date("dateActualisation")?,
        skills: o.skills()?,
    })
}

fn check_range(path: &str, value: Option<f64>, limit: f64) -> Result<(), Refusal> {
    match value {
        Some(v) if !(-limit..=limit).contains(&v) => {
            Err(Refusal(format!("{path}: {v} is out of range")))
        }
        _ => Ok(()),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Typed access to an object's fields; errors name the field's path.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Obj<'a> {
    fn field(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn wrong(&self, key: &str, expected: &str, got: &Value) -> Refusal {
        let dot = if self.path.is_empty() { "" } else { "." };
        Refusal(format!(
            "{}{dot}{key}: expected {expected}, got {}",
            self.path,
            kind(got)
        ))
    }

    /// A nested object; `{}` counts as absent.
    fn obj(&self, key: &'a str) -> Result<Option<Obj<'a>>, Refusal> {
        match self.field(key) {
            None => Ok(None),
            Some(Value::Object(m)) if m.is_empty() => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Obj { map: m, path: key })),
            Some(other) => Err(self.wrong(key, "an object", other)),
        }
    }

    /// Display text: entities decoded, tags dropped, whitespace tidied; empty is absent.
    fn text(&self, key: &str) -> Result<Option<String>, Refusal> {
        match self.field(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(clean_text(s)).filter(|s| !s.is_empty())),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    /// A code: trimmed, numbers accepted (postal codes sometimes arrive as numbers).
    fn code(&self, key: &str) -> Result<Option<String>, Refusal> {
        match self.field(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    /// The offer id: `200HHPB`, or a 7-digit partner id that may come as a number.
    fn id(&self, key: &str) -> Result<Option<String>, Refusal> {
        self.code(key)?
            .map(|id| {
                shared::OfferId::parse(&id)
                    .map(shared::OfferId::into_string)
                    .map_err(|e| Refusal(format!("id: {e}")))
            })
            .transpose()
    }

    fn number(&self, key: &str) -> Result<Option<f64>, Refusal> {
        match self.field(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64().filter(|f| f.is_finite())),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(v @ Value::String(s)) => s
                .trim()
                .replace(',', ".")
                .parse::<f64>()
                .map(Some)
                .map_err(|_| self.wrong(key, "a number", v)),
            Some(other) => Err(self.wrong(key, "a number", other)),
        }
    }

    fn integer(&self, key: &str) -> Result<Option<i32>, Refusal> {
        match self.field(key) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => n
                .as_i64()
                .and_then(|i| i32::try_from(i).ok())
                .map(Some)
                .ok_or_else(|| self.wrong(key, "an integer", v)),
            Some(other) => Err(self.wrong(key, "an integer", other)),
        }
    }

    fn date(&self, key: &str) -> Result<Option<DateTime<Utc>>, Refusal> {
        match self.field(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => DateTime::parse_from_rfc3339(s.trim())
                .map(|d| Some(d.with_timezone(&Utc)))
                .map_err(|e| Refusal(format!("{key}: {s:?} is not a date: {e}"))),
            Some(other) => Err(self.wrong(key, "a date string", other)),
        }
    }

    /// `competences[{code, libelle, exigence}]`; entries without a label are skipped.
    fn skills(&self) -> Result<Vec<Skill>, Refusal> {
        let items = match self.field("competences") {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(self.wrong("competences", "an array", other)),
        };
        let mut skills = Vec::with_capacity(items.len());
        for item in items {
            let Value::Object(map) = item else {
                return Err(self.wrong("competences[]", "an object", item));
            };
            let entry = Obj {
                map,
                path: "competences[]",
            };
            let Some(label) = entry.text("libelle")? else {
                continue;
            };
            let required = match entry.code("exigence")?.as_deref() {
                Some("E") => Some(true),
                Some("S") => Some(false),
                _ => None,
            };
            skills.push(Skill {
                code: entry.code("code")?,
                label,
                required,
            });
        }
        Ok(skills)
    }
}

/// Text for display and embedding: HTML entities decoded (repeatedly: some arrive
/// double-escaped), line-break tags turned into newlines, other tags dropped, U+FFFD
/// removed, runs of spaces collapsed, lines trimmed.
pub fn clean_text(raw: &str) -> String {
    let mut text = raw.to_owned();
    for _ in 0..3 {
        let decoded = html_escape::decode_html_entities(&text).into_owned();
        if decoded == text {
            break;
        }
        text = decoded;
    }
    let text = strip_tags(&text).replace('\u{FFFD}', "");
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = line
            .split([' ', '\t', '\u{A0}', '\u{202F}'])
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&line);
    }
    out.trim().to_owned()
}

/// Drops `<...>` tags that look like HTML (a letter or `/` after `<`), keeping text such
/// as "salaire < 30 k€"; `<br>` and `</p>` become newlines.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let looks_like_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/');
        match (looks_like_tag, after.find('>')) {
            (true, Some(end)) => {
                let tag = after[..end].trim_start_matches('/').to_ascii_lowercase();
                if tag.starts_with("br")
                    || tag.starts_with('p')
                    || tag.starts_with("li")
                    || tag.starts_with("div")
                {
                    out.push('\n');
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_complete_offer() {
        let offer = normalize(&json!({
            "id": "201VPGR", "intitule": "Développeur Python (H/F)  ",
            "description": "Vous d&amp;eacute;veloppez&nbsp;des API.<br/>T&eacute;l&eacute;travail partiel.",
            "dateCreation": "2025-11-13T10:27:45.000Z", "dateActualisation": "2025-11-14T08:00:00.000Z",
            "lieuTravail": {"libelle": "75 - PARIS 01", "latitude": 48.86, "longitude": 2.34, "codePostal": "75001", "commune": "75101"},
            "romeCode": "M1805", "romeLibelle": "Études et développement informatique",
            "entreprise": {"nom": "ACME Corp"}, "typeContrat": "CDI", "typeContratLibelle": "Contrat à durée indéterminée",
            "experienceExige": "E", "experienceLibelle": "3 ans",
            "salaire": {"libelle": "Annuel de 45000.0 Euros à 55000.0 Euros"},
            "competences": [{"code": "300123", "libelle": "Python", "exigence": "E"}, {"libelle": "Django", "exigence": "S"}, {"code": "1"}],
            "nombrePostes": 2, "codeNAF": "62.01Z", "secteurActiviteLibelle": "Programmation informatique",
            "origineOffre": {"origine": "1", "urlOrigine": "https://candidat.francetravail.fr/offres/recherche/detail/201VPGR"},
            "unNouveauChamp": {"x": 1}
        }))
        .unwrap();
        assert_eq!(offer.id, "201VPGR");
        assert_eq!(offer.title, "Développeur Python (H/F)");
        assert_eq!(
            offer.description.as_deref(),
            Some("Vous développez des API.\nTélétravail partiel.")
        );
        assert_eq!(offer.postal_code.as_deref(), Some("75001"));
        assert_eq!(offer.latitude, Some(48.86));
        assert_eq!(
            offer.skills.len(),
            2,
            "the entry without a label is skipped"
        );
        assert_eq!(offer.skills[0].required, Some(true));
        assert_eq!(offer.skills[1].code, None);
        assert_eq!(offer.positions, Some(2));
        assert_eq!(
            offer.published_at.unwrap().to_rfc3339(),
            "2025-11-13T10:27:45+00:00"
        );
        let text = offer.embedding_text();
        assert!(
            text.starts_with(
                "Développeur Python (H/F)\nÉtudes et développement informatique\nPython, Django\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn partial_and_empty_parts_are_absent_not_errors() {
        let offer = normalize(&json!({
            "id": 1234567, "intitule": "Agent d'entretien",
            "lieuTravail": {"libelle": "Ile-de-France"}, "salaire": {}, "agence": {}, "entreprise": {},
            "contact": {}, "lieuTravail2": null
        }))
        .unwrap();
        assert_eq!(offer.id, "1234567", "numeric partner ids kept as strings");
        assert_eq!(offer.location_label.as_deref(), Some("Ile-de-France"));
        assert_eq!(
            (
                offer.latitude,
                offer.salary_label.clone(),
                offer.company_name.clone()
            ),
            (None, None, None)
        );
    }

    #[test]
    fn refusals_name_the_problem() {
        let cases = [
            (json!([1, 2]), "JSON object"),
            (json!({"intitule": "x"}), "no id"),
            (json!({"id": "A1"}), "no title"),
            (json!({"id": "A1", "intitule": "   "}), "no title"),
            (
                json!({"id": "A 1;", "intitule": "x"}),
                "not a France Travail offer id",
            ),
            (
                json!({"id": "A1", "intitule": 42}),
                "intitule: expected a string",
            ),
            (
                json!({"id": "A1", "intitule": "x", "lieuTravail": "Paris"}),
                "lieuTravail: expected an object",
            ),
            (
                json!({"id": "A1", "intitule": "x", "lieuTravail": {"latitude": "nord"}}),
                "lieuTravail.latitude: expected a number",
            ),
            (
                json!({"id": "A1", "intitule": "x", "lieuTravail": {"latitude": 123.0}}),
                "out of range",
            ),
            (
                json!({"id": "A1", "intitule": "x", "dateCreation": "hier"}),
                "dateCreation",
            ),
            (
                json!({"id": "A1", "intitule": "x", "competences": {"libelle": "Python"}}),
                "competences: expected an array",
            ),
            (
                json!({"id": "A1", "intitule": "x", "nombrePostes": 1.5}),
                "nombrePostes: expected an integer",
            ),
        ];
        for (payload, expected) in cases {
            let refusal = normalize(&payload).unwrap_err();
            assert!(refusal.0.contains(expected), "{payload}: {refusal}");
        }
    }

    #[test]
    fn text_cleaning() {
        assert_eq!(
            clean_text("&amp;lt;p&amp;gt;Bonjour&amp;lt;/p&amp;gt;"),
            "Bonjour"
        );
        assert_eq!(
            clean_text("salaire < 30 k€ et > 20 k€"),
            "salaire < 30 k€ et > 20 k€"
        );
        assert_eq!(
            clean_text("  a\u{A0}\u{A0}b \u{FFFD} c  \n\n d "),
            "a b c\n\nd"
        );
        assert_eq!(clean_text("l&#039;équipe"), "l'équipe");
    }
}
