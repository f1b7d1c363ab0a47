//! The DTOs read and write the architecture's JSON examples unchanged.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use shared::*;

/// Parses `example`, serialises it back to JSON text (what goes on the wire), and
/// returns the value for field checks.
fn round_trip<T: DeserializeOwned + Serialize>(example: Value) -> T {
    let parsed: T = serde_json::from_str(&example.to_string()).expect("example parses");
    let back: Value = serde_json::from_str(&serde_json::to_string(&parsed).unwrap()).unwrap();
    assert_eq!(back, example, "round trip keeps the example as it was");
    parsed
}

#[test]
fn match_request_of_the_architecture() {
    let request: MatchRequest = round_trip(json!({
        "cv_embedding": [0.123, -0.456],
        "limit": 20,
        "filters": {"contract_types": ["CDI"], "near": {"lat": 48.85, "lon": 2.35, "radius_km": 30.0}}
    }));
    assert_eq!(request.cv_embedding, vec![0.123f32, -0.456]);
    let filters = request.filters.unwrap();
    assert_eq!(filters.contract_types.unwrap(), ["CDI"]);
    assert_eq!(filters.near.unwrap().radius_km, 30.0);
}

#[test]
fn match_request_minimal_defaults_to_twenty() {
    let request: MatchRequest = round_trip(json!({"cv_embedding": [1.0]}));
    assert_eq!(request.effective_limit(), DEFAULT_MATCH_LIMIT);
    assert!(request.filters.is_none());
}

#[test]
fn match_request_with_every_filter() {
    let request: MatchRequest = round_trip(json!({
        "cv_embedding": [0.5],
        "filters": {"rome_codes": ["M1805"], "published_after": "2026-01-02T03:04:05Z"},
        "model": "sentence-transformers/all-MiniLM-L6-v2"
    }));
    let filters = request.filters.unwrap();
    assert_eq!(filters.rome_codes.unwrap(), ["M1805"]);
    assert_eq!(
        filters.published_after.unwrap().to_rfc3339(),
        "2026-01-02T03:04:05+00:00"
    );
}

#[test]
fn unknown_fields_are_refused() {
    let bad_filter = json!({"cv_embedding": [1.0], "filters": {"contract_type": ["CDI"]}});
    let err = serde_json::from_value::<MatchRequest>(bad_filter).unwrap_err();
    assert!(err.to_string().contains("contract_type"), "{err}");
    let bad_field = json!({"cv_embedding": [1.0], "limt": 3});
    assert!(serde_json::from_value::<MatchRequest>(bad_field).is_err());
}

#[test]
fn match_response_of_the_architecture() {
    let hits: Vec<MatchHit> = round_trip(json!([
        {"id": "201VPGR", "score": 0.94}, {"id": "201VPGQ", "score": 0.89}
    ]));
    assert_eq!(hits[0].id, "201VPGR");
    assert!(hits[0].score > hits[1].score);
}

#[test]
fn offer_detail_of_the_architecture() {
    let offers: Vec<OfferDetail> = round_trip(json!([{
        "id": "201VPGR", "intitule": "Développeur Python", "description": "...",
        "entreprise": "ACME Corp", "lieu": "Paris 75001", "typeContrat": "CDI",
        "salaire": "45-55K€",
        "competences": [{"libelle": "Python", "exigence": "E"}, {"libelle": "Django", "exigence": "S"}]
    }]));
    assert_eq!(offers[0].type_contrat.as_deref(), Some("CDI"));
    assert_eq!(offers[0].competences[1].exigence.as_deref(), Some("S"));
}

#[test]
fn offer_detail_with_the_extra_fields() {
    let offer: OfferDetail = round_trip(json!({
        "id": "201VPGR", "intitule": "Développeur Python", "description": null,
        "entreprise": null, "lieu": "Lyon", "typeContrat": "CDD", "salaire": null,
        "competences": [], "codePostal": "69001", "latitude": 45.76, "longitude": 4.83,
        "romeCode": "M1805", "romeLibelle": "Études et développement informatique",
        "secteurActiviteLibelle": "Programmation informatique",
        "experienceLibelle": "Débutant accepté",
        "dateCreation": "2026-11-01T08:00:00Z", "dateActualisation": "2026-11-02T08:00:00Z",
        "urlOrigine": "https://candidat.francetravail.fr/offres/recherche/detail/201VPGR",
        "archived": true
    }));
    assert_eq!(offer.rome_code.as_deref(), Some("M1805"));
    assert!(offer.archived);
}

#[test]
fn cv_analysis_round_trips() {
    let analysis: CvAnalysis = round_trip(json!({
        "text": "Développeuse Rust depuis 2019",
        "language": "fr",
        "sections": [{"kind": "experience", "heading": "Expérience", "start": 0, "end": 29}],
        "skills": [{"label": "Rust", "evidence": "Rust", "start": 14, "end": 18}],
        "experiences": [{"title": "Développeuse", "employer": "ACME", "start": "2019-01-01", "months": 70}],
        "education": [{"title": "Master informatique", "year": 2018}],
        "languages": [{"language": "anglais", "level": "C1"}],
        "total_experience_years": 5.8,
        "embedding": [0.1, 0.2],
        "embedding_model": "sentence-transformers/all-MiniLM-L6-v2"
    }));
    assert_eq!(&analysis.text[14..18], "Rust");
    assert!(analysis.experiences[0].end.is_none(), "current job");
    assert_eq!(analysis.sections[0].kind, shared::CvSectionKind::Experience);
}

#[test]
fn problem_body_uses_rfc9457_names() {
    let problem: ProblemBody = round_trip(json!({
        "type": "urn:jobmatch:problem:validation", "title": "Invalid request content",
        "status": 422, "detail": "cv_embedding has 3 values; expected 384",
        "instance": "/match", "request_id": "0192f3c4",
        "errors": [{"field": "/cv_embedding", "message": "expected 384 values"}]
    }));
    assert_eq!(problem.kind, "urn:jobmatch:problem:validation");
    assert_eq!(problem.errors.len(), 1);
}

/// cv-ingestion's problems about a CV are known to the GUI by their `type`, each by one
/// slug of its own; any other problem is none of them.
#[test]
fn cv_problems_are_known_by_their_type() {
    let problem = |kind: &str| -> ProblemBody {
        round_trip(json!({"type": kind, "title": "t", "status": 422}))
    };
    let mut slugs = Vec::new();
    for kind in CvProblem::ALL {
        let body = problem(&format!("{PROBLEM_TYPE_PREFIX}{}", kind.slug()));
        assert_eq!(CvProblem::of(&body), Some(kind));
        slugs.push(kind.slug());
    }
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), CvProblem::ALL.len(), "one slug each");
    for other in [
        "about:blank",
        "urn:jobmatch:problem:validation",
        "scanned-document",
        "urn:other:problem:scanned-document",
    ] {
        assert_eq!(CvProblem::of(&problem(other)), None, "{other}");
    }
}
