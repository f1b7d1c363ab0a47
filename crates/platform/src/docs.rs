//! `/openapi.json` and browsable API docs (Swagger UI) served from local files: the
//! viewer's assets are installed by `make setup` from the npm registry, so the docs work
//! with no internet.

use std::path::PathBuf;

use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::services::ServeDir;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::OpenApi;

use crate::problem::Problem;

/// Name of the bearer scheme internal routes declare with `security(("service_token" = []))`.
pub const SERVICE_TOKEN_SCHEME: &str = "service_token";

/// The asset every page needs; its presence tells whether the viewer is installed.
const VIEWER_BUNDLE: &str = "swagger-ui-bundle.js";

#[derive(OpenApi)]
#[openapi(
    paths(crate::health::live, crate::health::ready, crate::metrics::handler),
    components(schemas(shared::ProblemBody, shared::FieldError, crate::health::HealthStatus)),
    tags((name = "platform", description = "Health, metrics and docs, on every service"))
)]
struct PlatformApi;

/// The service's document completed with the platform routes and the bearer scheme.
pub fn complete(service: &'static str, mut doc: OpenApiDoc) -> OpenApiDoc {
    doc.merge(PlatformApi::openapi());
    doc.info.title = format!("jobmatch {service}");
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SERVICE_TOKEN_SCHEME,
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    doc
}

/// `/openapi.json`, `/docs` and `/docs/assets/*`.
pub fn router(service: &'static str, doc: OpenApiDoc, assets: Option<PathBuf>) -> Router {
    let doc = std::sync::Arc::new(doc);
    let router = Router::new().route(
        "/openapi.json",
        get(move || {
            let doc = doc.clone();
            async move { Json(doc.as_ref().clone()) }
        }),
    );
    match assets.filter(|dir| dir.join(VIEWER_BUNDLE).is_file()) {
        Some(dir) => router
            .route(
                "/docs",
                get(move || async move { Html(viewer_page(service)) }),
            )
            .nest_service("/docs/assets", ServeDir::new(dir)),
        None => router.route("/docs", get(viewer_missing)),
    }
}

fn viewer_page(service: &str) -> String {
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jobmatch {service} API</title>
<link rel="icon" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/{VIEWER_BUNDLE}"></script>
<script>window.ui = SwaggerUIBundle({{ url: "/openapi.json", dom_id: "#swagger-ui" }});</script>
</body>
</html>
"##
    )
}

async fn viewer_missing() -> Response {
    Problem::unavailable(
        "the API docs viewer is not installed: run `make setup` and set DOCS_ASSETS_DIR; \
         the document itself is at /openapi.json",
    )
    .into_response()
}
