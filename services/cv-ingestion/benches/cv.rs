//! `make bench-cv`: CVs per second for a 2-page CV (tests/data/cv-fr.html made into PDF
//! and DOCX by LibreOffice): parse only (in-process), parse in the service's child
//! process, and the whole of `POST /cv` over HTTP (parse + analysis + embedding).

use std::time::{Duration, Instant};

use cv_ingestion::extract::{self, Limits};
use cv_ingestion::{AppState, Config};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use testkit::documents::{self, Font};

const PARSES: usize = 50;
const REQUESTS: usize = 20;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let html = std::fs::read_to_string(testkit::manifest_dir().join("tests/data/cv-fr.html"))?;
    let env = testkit::env().with("CV_PARSER", env!("CARGO_BIN_EXE_cv-ingestion"));
    let config = Config::from_env(&env)?;
    let state = AppState::load(&config).await?;
    let server = testkit::spawn(cv_ingestion::router(&config, state)).await;

    println!("bench-cv: a 2-page French CV (tests/data/cv-fr.html), CVs per second");
    println!(
        "{:<8}{:>12}{:>20}{:>34}",
        "format", "parse only", "parse in a child", "POST /cv (+ analysis, embedding)"
    );
    for format in ["pdf", "docx"] {
        let document = documents::from_html(&html, format, Font::Times);
        let limits = Limits::default();
        extract::extract(&document, &limits).map_err(anyhow::Error::msg)?;
        let started = Instant::now();
        for _ in 0..PARSES {
            extract::extract(&document, &limits).map_err(anyhow::Error::msg)?;
        }
        let parse = rate(PARSES, started.elapsed());

        // The service's own children (confined as configured), one at a time.
        let sandbox = config.sandbox();
        let started = Instant::now();
        for _ in 0..PARSES {
            sandbox.extract(&document).await?;
        }
        let child = rate(PARSES, started.elapsed());

        let started = Instant::now();
        for _ in 0..REQUESTS {
            let form = Form::new().part("file", Part::bytes(document.clone()).file_name("cv"));
            let response = server
                .authed(Method::POST, "/cv")
                .multipart(form)
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "POST /cv: {}",
                response.status()
            );
            response.bytes().await?;
        }
        let whole = rate(REQUESTS, started.elapsed());
        println!("{format:<8}{parse:>12.1}{child:>20.1}{whole:>34.1}");
    }
    Ok(())
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}
