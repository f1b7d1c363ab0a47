//! Request ids: kept from the caller's `x-request-id` (when sane) or generated at the
//! edge, put on the response, in the request's log span, and carried to outgoing calls
//! made while handling the request (see [`crate::http_client`]).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id accepted from a caller; longer ones are replaced.
const MAX_LEN: usize = 128;

/// The id of the request being handled, as a request extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// The caller's id when it is short printable ASCII (it goes into logs verbatim).
    fn from_header(value: &HeaderValue) -> Option<Self> {
        let s = value.to_str().ok()?;
        let ok = !s.is_empty() && s.len() <= MAX_LEN && s.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request whose handler is running on this task, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `fut` as part of the request `id` (outgoing calls made by it carry the id).
async fn scope<F: std::future::Future>(id: RequestId, fut: F) -> F::Output {
    CURRENT.scope(id, fut).await
}

/// Outermost middleware: establishes the request id for everything inside.
pub async fn middleware(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(RequestId::from_header)
        .unwrap_or_else(RequestId::generate);
    let header = HeaderValue::from_str(id.as_str()).expect("request ids are printable ASCII");
    req.headers_mut().insert(REQUEST_ID_HEADER, header.clone());
    req.extensions_mut().insert(id.clone());
    let mut response = scope(id, next.run(req)).await;
    response.headers_mut().insert(REQUEST_ID_HEADER, header);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sane_ids_and_rejects_others() {
        let ok = HeaderValue::from_static("abc-123_XYZ");
        assert_eq!(RequestId::from_header(&ok).unwrap().as_str(), "abc-123_XYZ");
        assert!(RequestId::from_header(&HeaderValue::from_static("has space")).is_none());
        let long = HeaderValue::from_str(&"a".repeat(MAX_LEN + 1)).unwrap();
        assert!(RequestId::from_header(&long).is_none());
    }

    #[test]
    fn generated_ids_are_unique() {
        assert_ne!(RequestId::generate(), RequestId::generate());
    }
}
