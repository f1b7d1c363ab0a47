//! Calls to cv-ingestion: a CV file or a profile's text in, its analysis out; its
//! problems told to the candidate in French.

use std::time::Duration;

use platform::http_client::ServiceClient;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use shared::{CvAnalysis, CvProblem, ProblemBody};

/// Why a CV could not be read, in words for the candidate.
#[derive(Debug, thiserror::Error)]
pub enum CvRefused {
    #[error("{0}")]
    Document(&'static str),
    #[error("Le service d’analyse des CV ne répond pas. Réessayez dans quelques minutes.")]
    Unavailable(String),
}

/// Sends a CV file to `POST /cv`.
pub async fn analyse_file(
    client: &ServiceClient,
    bytes: Vec<u8>,
    file_name: &str,
) -> Result<CvAnalysis, CvRefused> {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(file_name.to_owned()));
    let request = client
        .request(Method::POST, "/cv")
        .map_err(|e| CvRefused::Unavailable(e.to_string()))?
        .multipart(form);
    send(request).await
}

/// Sends a text (the profile's) to `POST /cv`, for its embedding and analysis.
pub async fn analyse_text(
    client: &ServiceClient,
    text: &str,
    patience: Option<Duration>,
) -> Result<CvAnalysis, CvRefused> {
    let mut request = client
        .request(Method::POST, "/cv")
        .map_err(|e| CvRefused::Unavailable(e.to_string()))?
        .json(&serde_json::json!({ "text": text }));
    if let Some(patience) = patience {
        request = request.timeout(patience);
    }
    send(request).await
}

async fn send(request: reqwest::RequestBuilder) -> Result<CvAnalysis, CvRefused> {
    let response = request
        .send()
        .await
        .map_err(|e| CvRefused::Unavailable(e.to_string()))?;
    let status = response.status();
    if status.is_success() {
        return response
            .json()
            .await
            .map_err(|e| CvRefused::Unavailable(e.to_string()));
    }
    if status.is_server_error() {
        return Err(CvRefused::Unavailable(format!(
            "cv-ingestion answered {status}"
        )));
    }
    let problem: Option<ProblemBody> = response.json().await.ok();
    let kind = problem.as_ref().and_then(CvProblem::of);
    Err(CvRefused::Document(match (status.as_u16(), kind) {
        (413, _) | (_, Some(CvProblem::TooLarge)) => crate::web::TOO_LARGE.as_str(),
        (415, _) | (_, Some(CvProblem::UnsupportedFormat)) => "Ce format n’est pas pris en charge : déposez un PDF, un document Word (DOCX), OpenDocument (ODT), RTF ou texte.",
        (_, Some(CvProblem::Encrypted)) => "Ce document est protégé par un mot de passe : retirez la protection, puis déposez-le à nouveau.",
        (_, Some(CvProblem::Scanned)) => "Ce PDF ne contient que des images (un scan) : exportez votre CV en PDF depuis votre traitement de texte, ou déposez le fichier DOCX ou ODT.",
        (_, Some(CvProblem::InflatesTooMuch)) => "Ce document est anormalement volumineux une fois décompressé : enregistrez-le de nouveau et réessayez.",
        (_, Some(CvProblem::Empty)) => "Ce document ne contient pas de texte.",
        (_, Some(CvProblem::TextTooLong)) => "Ce CV est trop long pour être lu : déposez une version de quelques pages.",
        (_, Some(CvProblem::Malformed | CvProblem::Unreadable) | None) => "Ce fichier est illisible ou endommagé : exportez votre CV de nouveau (PDF, DOCX ou ODT) et réessayez.",
    }))
}
