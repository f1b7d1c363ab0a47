//! Bearer tokens for internal routes, one per caller. Each caller (the GUI, its worker,
//! the monitoring) presents its own token, which opens only the scopes it was given: a
//! leaked monitoring token calls no API, a compromised GUI's token reads no metrics, and
//! each can be revoked alone. Without a list of callers, the service's own token opens
//! everything (a single shared token, for local runs).

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
use crate::{ConfigError, Env};

/// Shortest token accepted.
pub const MIN_TOKEN_CHARS: usize = 16;

/// What a caller may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The service's internal API (and, on the GUI, its API docs).
    Api,
    /// `/metrics`.
    Metrics,
}

impl Scope {
    /// The scope a path needs: `/metrics` its own, everything else the API's.
    pub fn of(path: &str) -> Self {
        if path == "/metrics" {
            Self::Metrics
        } else {
            Self::Api
        }
    }

    fn bit(self) -> u8 {
        match self {
            Self::Api => 1,
            Self::Metrics => 2,
        }
    }
}

struct Caller {
    name: String,
    scopes: u8,
    /// SHA-256 of the token: compared in constant time whatever a guess's length.
    digest: [u8; 32],
}

/// The callers a service accepts.
#[derive(Clone)]
pub struct Callers(Arc<[Caller]>);

impl std::fmt::Debug for Callers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|c| c.name.as_str()).collect();
        f.debug_tuple("Callers").field(&names).finish()
    }
}

impl Callers {
    /// One caller, "service", with every scope: the shared token of a local run.
    pub fn single(token: &SecretString) -> Self {
        Self(Arc::new([Caller {
            name: "service".into(),
            scopes: Scope::Api.bit() | Scope::Metrics.bit(),
            digest: digest(token.expose_secret()),
        }]))
    }

    /// `SERVICE_CALLERS` (or `SERVICE_CALLERS_FILE`): one caller per line or `;`, as
    /// `name:scopes:token` with scopes `api`, `metrics` or `api+metrics`; unset, the
    /// service's own `token` opens everything.
    pub fn from_env(env: &Env, token: &SecretString) -> Result<Self, ConfigError> {
        const VAR: &str = "SERVICE_CALLERS";
        let Some(list) = env.secret_opt(VAR)? else {
            return Ok(Self::single(token));
        };
        let mut callers: Vec<Caller> = Vec::new();
        for entry in list
            .expose_secret()
            .split(['\n', ';'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let mut parts = entry.splitn(3, ':');
            let (Some(name), Some(scopes), Some(secret)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(ConfigError::new(VAR, "expected name:scopes:token entries"));
            };
            let valid_name = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid_name {
                return Err(ConfigError::new(
                    VAR,
                    format!("caller name {name:?}: lower-case letters, digits and - only"),
                ));
            }
            let mut bits = 0;
            for scope in scopes.split('+') {
                bits |= match scope {
                    "api" => Scope::Api.bit(),
                    "metrics" => Scope::Metrics.bit(),
                    other => {
                        return Err(ConfigError::new(
                            VAR,
                            format!("caller {name}: unknown scope {other:?} (api, metrics)"),
                        ))
                    }
                };
            }
            if secret.chars().count() < MIN_TOKEN_CHARS {
                return Err(ConfigError::new(
                    VAR,
                    format!(
                        "caller {name}: token too short, use at least {MIN_TOKEN_CHARS} characters"
                    ),
                ));
            }
            let digest = digest(secret);
            if callers.iter().any(|c| c.name == name || c.digest == digest) {
                return Err(ConfigError::new(
                    VAR,
                    format!("caller {name}: each caller once, each with a token of its own"),
                ));
            }
            callers.push(Caller {
                name: name.to_owned(),
                scopes: bits,
                digest,
            });
        }
        if callers.is_empty() {
            return Err(ConfigError::new(VAR, "set but lists no caller"));
        }
        Ok(Self(callers.into()))
    }

    /// The caller whose token this is. Every token is compared, in constant time, so
    /// that timing tells nothing of which (or whether one) matched.
    fn identify(&self, presented: &str) -> Option<&Caller> {
        let presented = digest(presented);
        let mut found = None;
        for caller in self.0.iter() {
            if bool::from(caller.digest.ct_eq(&presented)) {
                found = Some(caller);
            }
        }
        found
    }
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// The caller of an internal route, for handlers and logs.
#[derive(Debug, Clone)]
pub struct CallerName(pub String);

/// Lets through requests with `Authorization: Bearer <token>` of a caller given the
/// route's scope ([`Scope::of`]): 401 problem+json without a known token, 403 for a
/// caller without the scope.
pub async fn require_caller(
    State(callers): State<Callers>,
    mut req: Request,
    next: Next,
) -> Response {
    let scope = Scope::of(req.uri().path());
    let presented = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    let Some(presented) = presented else {
        return unauthorized("this route needs an `Authorization: Bearer <service token>` header");
    };
    let Some(caller) = callers.identify(presented) else {
        return unauthorized("the service token is not valid");
    };
    if caller.scopes & scope.bit() == 0 {
        return Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
            .detail(format!(
                "the caller {} may not call this route (scope {scope:?})",
                caller.name
            ))
            .into_response();
    }
    tracing::Span::current().record("caller", caller.name.as_str());
    req.extensions_mut().insert(CallerName(caller.name.clone()));
    next.run(req).await
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

    fn callers(list: &str) -> Result<Callers, ConfigError> {
        let env = Env::default().with("SERVICE_CALLERS", list);
        Callers::from_env(&env, &SecretString::from("own-token-of-some-length"))
    }

    #[test]
    fn each_token_names_its_caller_and_only_its_scopes() {
        let callers =
            callers("gui:api:gui-token-0123456789ab; monitoring:metrics:mon-token-0123456789\nops:api+metrics:ops-token-0123456789")
                .unwrap();
        let scopes = |token: &str| callers.identify(token).map(|c| (c.name.clone(), c.scopes));
        assert_eq!(scopes("gui-token-0123456789ab"), Some(("gui".into(), 1)));
        assert_eq!(
            scopes("mon-token-0123456789"),
            Some(("monitoring".into(), 2))
        );
        assert_eq!(scopes("ops-token-0123456789"), Some(("ops".into(), 3)));
        assert_eq!(scopes("gui-token-0123456789aB"), None);
        assert_eq!(
            scopes("own-token-of-some-length"),
            None,
            "the list replaces it"
        );
        assert_eq!(scopes(""), None);
    }

    #[test]
    fn without_a_list_the_own_token_opens_everything() {
        let env = Env::default();
        let callers =
            Callers::from_env(&env, &SecretString::from("own-token-of-some-length")).unwrap();
        assert_eq!(
            callers
                .identify("own-token-of-some-length")
                .map(|c| c.scopes),
            Some(3)
        );
        assert!(callers.identify("own-token-of-some-lengtH").is_none());
    }

    #[test]
    fn a_bad_list_is_refused_saying_why() {
        for (list, why) in [
            ("gui:api", "name:scopes:token"),
            ("GUI:api:gui-token-0123456789ab", "lower-case"),
            ("gui:admin:gui-token-0123456789ab", "unknown scope"),
            ("gui:api:short", "too short"),
            (
                "gui:api:same-token-0123456789;ops:metrics:same-token-0123456789",
                "each caller once",
            ),
            (";", "lists no caller"),
        ] {
            let error = callers(list).unwrap_err().to_string();
            assert!(
                error.contains("SERVICE_CALLERS") && error.contains(why),
                "{list}: {error}"
            );
        }
    }
}
