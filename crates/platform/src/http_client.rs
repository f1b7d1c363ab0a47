//! HTTP client for calls between services: base URL, bearer service token, timeout, and
//! the current request id and trace context (W3C `traceparent`, when traces are
//! exported) on every call, so that one id and one trace follow a request across
//! services.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Url};
use secrecy::{ExposeSecret, SecretString};

use crate::request_id::{self, RequestId, REQUEST_ID_HEADER};

#[derive(Clone, Debug)]
pub struct ServiceClient {
    http: reqwest::Client,
    base: Url,
    token: SecretString,
}

impl ServiceClient {
    pub fn new(mut base: Url, token: SecretString, timeout: Duration) -> anyhow::Result<Self> {
        // `join` replaces the last path segment unless the base ends with a slash.
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3).min(timeout))
            .build()?;
        Ok(Self { http, base, token })
    }

    /// A request to `path` (relative to the base URL) with the service token and the
    /// request id of the request being handled (a fresh one outside any request).
    pub fn request(&self, method: Method, path: &str) -> anyhow::Result<RequestBuilder> {
        let url = self.base.join(path.trim_start_matches('/'))?;
        let id = request_id::current().unwrap_or_else(RequestId::generate);
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(self.token.expose_secret())
            .header(REQUEST_ID_HEADER, id.as_str());
        for (name, value) in crate::telemetry::trace_headers() {
            request = request.header(name, value);
        }
        Ok(request)
    }

    pub fn get(&self, path: &str) -> anyhow::Result<RequestBuilder> {
        self.request(Method::GET, path)
    }
}
