//! The France Travail "Offres d'emploi v2" API as a source of offers.
//!
//! OAuth2 client credentials (the token is cached until shortly before it expires and
//! renewed on a 401); search pages of 150 (`range=0-149`, HTTP 206 with `Content-Range:
//! offres 0-149/N` while more exist); at most 3,150 results per query, so a pull is cut
//! into creation-date windows, halved while a window holds more, and a window of one
//! hour that still holds more is cut by département. Requests are paced (default 3/s)
//! and retried with backoff on 429 (honouring `Retry-After`), 5xx and transport errors.

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use platform::{ConfigError, Env};
use reqwest::header::{CONTENT_RANGE, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

/// Results per page, and the most one query can return.
const PAGE: usize = 150;
const QUERY_CAP: usize = 3150;
/// A window this short that still holds more than the cap is cut by département.
const SMALLEST_WINDOW: chrono::Duration = chrono::Duration::hours(1);
/// Renew the token this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);
const BACKOFF_START: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Metropolitan and overseas départements, for windows too dense to page by date.
const DEPARTEMENTS: [&str; 101] = [
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16",
    "17", "18", "19", "21", "22", "23", "24", "25", "26", "27", "28", "29", "2A", "2B", "30", "31",
    "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47",
    "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63",
    "64", "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79",
    "80", "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "95",
    "971", "972", "973", "974", "976",
];

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `FT_TOKEN_URL`: the OAuth2 token endpoint (with its `?realm=/partenaire`).
    pub token_url: Url,
    /// `FT_API_URL`: base of the offers API, e.g. `https://…/partenaire/offresdemploi/v2/`.
    pub api_url: Url,
    /// `FT_CLIENT_ID`, `FT_CLIENT_SECRET` / `FT_CLIENT_SECRET_FILE`.
    pub client_id: String,
    pub client_secret: SecretString,
    /// `FT_SCOPE` (`api_offresdemploiv2 o2dsoffre`).
    pub scope: String,
    /// `FT_REQUESTS_PER_SECOND` (3).
    pub requests_per_second: f64,
    /// `FT_SYNC_DAYS` (31): a full pull covers offers created in these last days.
    pub sync_days: i64,
    /// `FT_MAX_RETRIES` (5).
    pub max_retries: u32,
    /// `FT_TIMEOUT_SECS` (30).
    pub timeout: Duration,
}

impl ApiConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let rate: f64 = env.or("FT_REQUESTS_PER_SECOND", 3.0)?;
        if !(rate > 0.0 && rate.is_finite()) {
            return Err(ConfigError::new(
                "FT_REQUESTS_PER_SECOND",
                "must be a positive number",
            ));
        }
        let sync_days = env.at_least_one("FT_SYNC_DAYS", 31i64)?;
        let mut api_url: Url = env.required("FT_API_URL")?;
        if !api_url.path().ends_with('/') {
            api_url.set_path(&format!("{}/", api_url.path()));
        }
        Ok(Self {
            token_url: env.required("FT_TOKEN_URL")?,
            api_url,
            client_id: env.required("FT_CLIENT_ID")?,
            client_secret: env.secret("FT_CLIENT_SECRET")?,
            scope: env.or("FT_SCOPE", "api_offresdemploiv2 o2dsoffre".to_owned())?,
            requests_per_second: rate,
            sync_days,
            max_retries: env.or("FT_MAX_RETRIES", 5u32)?,
            timeout: env.seconds("FT_TIMEOUT_SECS", Duration::from_secs(30))?,
        })
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

/// One search query: a creation-date window, optionally one département.
#[derive(Debug, Clone)]
pub struct Query {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub departement: Option<&'static str>,
}

/// A page of results and the query's total.
pub struct Page {
    pub offers: Vec<Value>,
    pub total: usize,
}

/// A query of the plan, with its first page already read.
pub struct Planned {
    pub query: Query,
    pub first: Page,
}

pub struct Client {
    http: reqwest::Client,
    config: ApiConfig,
    token: Option<(String, Instant)>,
    next_request: Instant,
    /// Requests made, for the run's report and the tests.
    pub requests: u64,
}

impl Client {
    pub fn new(config: ApiConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(config.timeout).build()?;
        Ok(Self {
            http,
            config,
            token: None,
            next_request: Instant::now(),
            requests: 0,
        })
    }

    /// The queries of a full pull: windows over the last `sync_days`, each with at most
    /// [`QUERY_CAP`] results.
    pub async fn plan(&mut self, now: DateTime<Utc>) -> anyhow::Result<Vec<Planned>> {
        // The API takes whole seconds: end at the next one, so that nothing created in the
        // current second is left out, and cut windows on whole seconds.
        let to = (now + chrono::Duration::seconds(1)).trunc_subsecs(0);
        let mut todo = vec![Query {
            from: to - chrono::Duration::days(self.config.sync_days),
            to,
            departement: None,
        }];
        let mut plan = Vec::new();
        while let Some(query) = todo.pop() {
            let first = self.page(&query, 0).await?;
            let total = first.total;
            if total <= QUERY_CAP {
                if total > 0 {
                    plan.push(Planned { query, first });
                }
            } else if query.departement.is_none() && query.to - query.from > SMALLEST_WINDOW {
                let middle = (query.from + (query.to - query.from) / 2).trunc_subsecs(0);
                todo.push(Query {
                    from: middle,
                    to: query.to,
                    departement: None,
                });
                todo.push(Query {
                    from: query.from,
                    to: middle,
                    departement: None,
                });
            } else if query.departement.is_none() {
                todo.extend(DEPARTEMENTS.iter().map(|d| Query {
                    departement: Some(d),
                    ..query.clone()
                }));
            } else {
                tracing::warn!(?query, total, "more results than the API returns for one query; only the first {QUERY_CAP} are read");
                plan.push(Planned { query, first });
            }
        }
        plan.sort_by_key(|p| (p.query.from, p.query.departement));
        Ok(plan)
    }

    /// The pages of a planned query after its first one.
    pub async fn rest(&mut self, planned: &Planned) -> anyhow::Result<Vec<Value>> {
        let mut offers = Vec::new();
        let last = planned.first.total.min(QUERY_CAP);
        let mut start = PAGE;
        while planned.first.offers.len() == PAGE && start < last {
            let page = self.page(&planned.query, start).await?;
            let got = page.offers.len();
            offers.extend(page.offers);
            if got < PAGE {
                break;
            }
            start += PAGE;
        }
        Ok(offers)
    }

    async fn page(&mut self, query: &Query, start: usize) -> anyhow::Result<Page> {
        let end = (start + PAGE - 1).min(QUERY_CAP - 1);
        let mut url = self.config.api_url.join("offres/search")?;
        url.query_pairs_mut()
            .append_pair("range", &format!("{start}-{end}"))
            .append_pair(
                "minCreationDate",
                &query.from.to_rfc3339_opts(SecondsFormat::Secs, true),
            )
            .append_pair(
                "maxCreationDate",
                &query.to.to_rfc3339_opts(SecondsFormat::Secs, true),
            );
        if let Some(departement) = query.departement {
            url.query_pairs_mut()
                .append_pair("departement", departement);
        }
        let response = self.get(url).await?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(Page {
                offers: Vec::new(),
                total: 0,
            });
        }
        let total = response
            .headers()
            .get(CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit('/').next())
            .and_then(|n| n.trim().parse::<usize>().ok());
        let body: Value = response.json().await?;
        let offers = match body.get("resultats") {
            Some(Value::Array(items)) => items.clone(),
            _ => anyhow::bail!("the search answer has no resultats array"),
        };
        let total = total.unwrap_or(start + offers.len());
        Ok(Page { offers, total })
    }

    /// A GET with the token, pacing and retries.
    async fn get(&mut self, url: Url) -> anyhow::Result<reqwest::Response> {
        let mut backoff = BACKOFF_START;
        let mut renewed = false;
        let mut attempt = 0;
        loop {
            let token = self.token().await?;
            self.pace().await;
            let result = self.http.get(url.clone()).bearer_auth(&token).send().await;
            let retry_after = match result {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) if response.status() == StatusCode::UNAUTHORIZED && !renewed => {
                    // Expired or revoked early: one new token, then as usual.
                    self.token = None;
                    renewed = true;
                    continue;
                }
                Ok(response)
                    if response.status() == StatusCode::TOO_MANY_REQUESTS
                        || response.status().is_server_error() =>
                {
                    response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs)
                }
                Ok(response) => {
                    let status = response.status();
                    let text: String = response
                        .text()
                        .await
                        .unwrap_or_default()
                        .chars()
                        .take(300)
                        .collect();
                    anyhow::bail!("France Travail API answered {status} for {url}: {text}");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "France Travail API request failed");
                    None
                }
            };
            if attempt >= self.config.max_retries {
                anyhow::bail!(
                    "France Travail API unavailable for {url} after {} attempts",
                    attempt + 1
                );
            }
            let wait = retry_after.unwrap_or(backoff).min(BACKOFF_MAX);
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
            attempt += 1;
        }
    }

    /// Waits so that requests keep to the configured rate.
    async fn pace(&mut self) {
        let now = Instant::now();
        if self.next_request > now {
            tokio::time::sleep(self.next_request - now).await;
        }
        self.next_request =
            Instant::now() + Duration::from_secs_f64(1.0 / self.config.requests_per_second);
        self.requests += 1;
    }

    async fn token(&mut self) -> anyhow::Result<String> {
        if let Some((token, expires)) = &self.token {
            if Instant::now() + TOKEN_MARGIN < *expires {
                return Ok(token.clone());
            }
        }
        self.pace().await;
        let response = self
            .http
            .post(self.config.token_url.clone())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.config.client_id.as_str()),
                ("client_secret", self.config.client_secret.expose_secret()),
                ("scope", self.config.scope.as_str()),
            ])
            .send()
            .await?;
        if !response.status().is_success() {
            anyhow::bail!(
                "France Travail refused the client credentials ({})",
                response.status()
            );
        }
        let token: TokenResponse = response.json().await?;
        let expires = Instant::now() + Duration::from_secs(token.expires_in);
        self.token = Some((token.access_token.clone(), expires));
        Ok(token.access_token)
    }
}
