//! Bearer service token for internal routes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::problem::Problem;

/// The token internal routes accept, kept as a digest so that comparison time does not
/// depend on where (or at which length) a guess differs.
#[derive(Clone)]
pub struct ServiceToken(Arc<[u8; 32]>);

impl ServiceToken {
    pub fn new(token: &SecretString) -> Self {
        Self(Arc::new(digest(token.expose_secret())))
    }

    pub fn accepts(&self, presented: &str) -> bool {
        bool::from(digest(presented).ct_eq(&*self.0))
    }
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Rejects requests without `Authorization: Bearer <service token>` (401 problem+json).
pub async fn require_service_token(
    State(token): State<ServiceToken>,
    req: Request,
    next: Next,
) -> Response {
    let presented = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    match presented {
        Some(p) if token.accepts(p) => next.run(req).await,
        Some(_) => unauthorized("the service token is not valid"),
        None => unauthorized("this route needs an `Authorization: Bearer <service token>` header"),
    }
}

fn unauthorized(detail: &str) -> Response {
    let mut response = Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
        .detail(detail)
        .into_response();
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_exact_token() {
        let token = ServiceToken::new(&SecretString::from("s3cret-token-of-some-length"));
        assert!(token.accepts("s3cret-token-of-some-length"));
        assert!(!token.accepts("s3cret-token-of-some-lengtH"));
        assert!(!token.accepts("s3cret"));
        assert!(!token.accepts(""));
    }
}
