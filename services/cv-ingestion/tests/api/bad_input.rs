//! Bad input to POST /cv: each a clear problem+json, and the service still up. Real
//! documents spoiled (encrypted by qpdf, truncated, scanned) and crafted archives.

use std::io::Write;

use cv_ingestion::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;
use testkit::conformance::assert_problem;
use testkit::documents::{self, Font};
use testkit::TestServer;
use zip::write::SimpleFileOptions;

use crate::common;
use crate::common::{analysis, html, post_file, start};

async fn problem(server: &TestServer, bytes: Vec<u8>, status: StatusCode, kind: &str) -> String {
    let body = assert_problem(post_file(server, bytes).await, status, "/cv").await;
    assert_eq!(
        body["type"],
        format!("urn:jobmatch:problem:{kind}"),
        "{body}"
    );
    body["detail"].as_str().unwrap().to_owned()
}

/// A zip archive of `entries` (name, content).
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in entries {
        writer
            .start_file(*name, SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A small CV that reads fine, to show the service is still up.
async fn still_up(server: &TestServer) {
    let cv = analysis(
        server,
        b"Jean Martin\nComp\xc3\xa9tences\nPython, PostgreSQL\n".to_vec(),
    )
    .await;
    assert!(
        cv.skills.iter().any(|s| s.label == "Python"),
        "{:?}",
        cv.skills
    );
}

#[tokio::test]
async fn damaged_protected_and_foreign_files_are_clear_problems() {
    let server = start(common::env()).await;
    let pdf = documents::from_html(&html("cv-fr"), "pdf", Font::Times);

    let detail = problem(
        &server,
        documents::encrypt_pdf(&pdf, "s3cret"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "encrypted-document",
    )
    .await;
    assert!(detail.contains("password"), "{detail}");
    // A PDF anybody may open (copying forbidden) is read.
    let cv = analysis(&server, documents::encrypt_pdf(&pdf, "")).await;
    assert!(cv.text.contains("Banque Rhodanienne"));

    let scan = documents::from_html(
        r#"<html><body><img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABc3UBGAAAAABJRU5ErkJggg==" width="600" height="800"></body></html>"#,
        "pdf",
        Font::Times,
    );
    let detail = problem(
        &server,
        scan,
        StatusCode::UNPROCESSABLE_ENTITY,
        "scanned-document",
    )
    .await;
    assert!(detail.contains("scan"), "{detail}");

    let detail = problem(
        &server,
        pdf[..pdf.len() / 3].to_vec(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "malformed-document",
    )
    .await;
    assert!(detail.contains("PDF"), "{detail}");
    problem(
        &server,
        b"%PDF-1.7\n\x00\x01garbage".to_vec(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "malformed-document",
    )
    .await;
    let docx = documents::from_html(&html("cv-fr"), "docx", Font::Times);
    problem(
        &server,
        docx[..docx.len() / 2].to_vec(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "malformed-document",
    )
    .await;

    // Not CV formats: an image, a spreadsheet, an old .doc; an Office file encrypted
    // with a password is an OLE container holding an EncryptionInfo stream.
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    problem(
        &server,
        png,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-format",
    )
    .await;
    let ods = zip_of(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("content.xml", b"<a/>"),
    ]);
    problem(
        &server,
        ods,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-format",
    )
    .await;
    let ole = |stream: &str| {
        let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        bytes.extend(std::iter::repeat_n(0u8, 504));
        bytes.extend(stream.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    };
    let detail = problem(
        &server,
        ole("WordDocument"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-format",
    )
    .await;
    assert!(detail.contains(".doc"), "{detail}");
    problem(
        &server,
        ole("EncryptionInfo"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "encrypted-document",
    )
    .await;
    let odt_encrypted = zip_of(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("META-INF/manifest.xml", b"<manifest:manifest><manifest:file-entry><manifest:encryption-data/></manifest:file-entry></manifest:manifest>"),
        ("content.xml", b"\x8f\x12encrypted"),
    ]);
    problem(
        &server,
        odt_encrypted,
        StatusCode::UNPROCESSABLE_ENTITY,
        "encrypted-document",
    )
    .await;

    still_up(&server).await;
}

#[tokio::test]
async fn archives_that_inflate_past_the_limits_are_refused() {
    let server = start(
        common::env()
            .with("CV_MAX_INFLATED_MB", "4")
            .with("CV_MAX_ZIP_ENTRIES", "50"),
    )
    .await;
    // 16 MiB of XML that deflates to a few kB.
    let mut body = b"<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>".to_vec();
    body.extend(std::iter::repeat_n(b'a', 16 * 1024 * 1024));
    body.extend(b"</w:t></w:r></w:p></w:body></w:document>");
    let bomb = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", &body),
    ]);
    assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
    let detail = problem(
        &server,
        bomb,
        StatusCode::UNPROCESSABLE_ENTITY,
        "document-too-large",
    )
    .await;
    assert!(detail.contains("inflate to more than 4 MiB"), "{detail}");

    let names: Vec<String> = (0..60).map(|i| format!("word/media/{i}.xml")).collect();
    let mut entries: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), b"x".as_slice()))
        .collect();
    entries.push(("word/document.xml", b"<w:document/>"));
    let detail = problem(
        &server,
        zip_of(&entries),
        StatusCode::UNPROCESSABLE_ENTITY,
        "document-too-large",
    )
    .await;
    assert!(detail.contains("61 entries"), "{detail}");
    still_up(&server).await;
}

#[tokio::test]
async fn a_raised_entry_limit_is_the_one_applied() {
    // Above the default of 1,000 entries: detection and reading both take the setting.
    let server = start(common::env().with("CV_MAX_ZIP_ENTRIES", "2000")).await;
    let names: Vec<String> = (0..1100).map(|i| format!("word/media/{i}.xml")).collect();
    let mut entries: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), b"x".as_slice()))
        .collect();
    let document = b"<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>Jean Martin, soudeur</w:t></w:r></w:p></w:body></w:document>";
    entries.push(("word/document.xml", document));
    let cv = analysis(&server, zip_of(&entries)).await;
    assert!(cv.text.contains("Jean Martin, soudeur"), "{}", cv.text);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_bad_requests_say_what_to_send() {
    let server = start(common::env().with("BODY_LIMIT_BYTES", "100000")).await;
    let response = post_file(&server, vec![b'a'; 150_000]).await;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "/cv").await;

    let response = server
        .authed(Method::POST, "/cv")
        .body("just text")
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "/cv").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("multipart/form-data"),
        "{body}"
    );

    let form = reqwest::multipart::Form::new().text("cv", "not the file part");
    let response = server
        .authed(Method::POST, "/cv")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "/cv").await;
    assert!(
        body["detail"].as_str().unwrap().contains("`file`"),
        "{body}"
    );

    let response = server
        .authed(Method::POST, "/cv")
        .json(&json!({"text": "  \n "}))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::BAD_REQUEST, "/cv").await;
    let response = server
        .authed(Method::POST, "/cv")
        .json(&json!({"txt": "CV"}))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::BAD_REQUEST, "/cv").await;

    let response = server
        .post("/cv")
        .json(&json!({"text": "CV"}))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::UNAUTHORIZED, "/cv").await;
    still_up(&server).await;
}

/// A parser that hangs or dies costs its request only: the child is killed at the time
/// limit, and the service answers the next request.
#[tokio::test]
async fn a_parser_that_hangs_or_crashes_costs_one_request() {
    let dir = tempfile::tempdir().unwrap();
    for (name, script) in [("hang", "sleep 60"), ("crash", "kill -SEGV $$")] {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\ncat >/dev/null\n{script}\n")).unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&path)
            .status()
            .unwrap();
    }
    for (name, detail) in [
        ("hang", "took more than 1 s"),
        ("crash", "failed on this document"),
    ] {
        let env = common::env()
            .with("CV_PARSER", dir.path().join(name).to_str().unwrap())
            .with("CV_PARSE_TIMEOUT_SECS", "1");
        let server = start(env).await;
        let started = std::time::Instant::now();
        let body = assert_problem(
            post_file(&server, b"Jean Martin".to_vec()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "/cv",
        )
        .await;
        assert!(body["detail"].as_str().unwrap().contains(detail), "{body}");
        assert!(
            started.elapsed().as_secs() < 10,
            "the child was killed at the limit"
        );
        let live = server.get("/health/live").send().await.unwrap();
        assert_eq!(live.status(), StatusCode::OK);
    }
    // Files the fuzzer found to crash a parser (tests/data/fuzz-findings) are refused
    // the same way.
    let findings = testkit::manifest_dir().join("tests/data/fuzz-findings");
    let server = start(common::env()).await;
    let mut replayed = 0;
    for entry in std::fs::read_dir(&findings).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "bin") {
            let response = post_file(&server, std::fs::read(&path).unwrap()).await;
            let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "/cv").await;
            assert_eq!(
                body["type"],
                "urn:jobmatch:problem:unreadable-document",
                "{}: {body}",
                path.display()
            );
            replayed += 1;
        }
    }
    assert!(
        replayed >= 1,
        "the fuzzer's findings are kept as regression files"
    );
    still_up(&server).await;
}

/// The parsing child is confined, as the check the service runs at start shows: no
/// network, no file read or written, no process started, no memory past its limit, and
/// not root when the service is.
#[tokio::test]
async fn the_parsing_child_is_confined() {
    let config = Config::from_env(&common::env()).unwrap();
    let report = config.sandbox().check().await.expect("a confined child");
    assert_eq!(
        report.refused(),
        [
            "create a file",
            "open a local socket",
            "open a network socket",
            "read a file",
            "start a process",
            "take more memory than allowed",
        ],
        "{report:?}"
    );
    if rustix::process::geteuid().is_root() {
        assert_eq!(report.uid, 65534, "the child leaves root");
    }

    // A binary whose parsing child cannot be checked confined does not start.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cv-ingestion"))
        .env("CV_PARSER", "/bin/true")
        .env("SERVICE_TOKEN", testkit::SERVICE_TOKEN)
        .env("BIND_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("sandbox check"), "{stderr}");
}

/// A document whose reading needs more memory than the child may take is refused (422)
/// and costs nothing else: the service and PostgreSQL still answer. Whether the parser
/// sees the allocation fail (a DOCX entry) or dies of it (a text file), the candidate is
/// told the same.
#[tokio::test]
async fn a_document_needing_more_memory_than_allowed_is_refused() {
    // A DOCX of 150 MiB of text once inflated (a few hundred KiB sent), within the
    // archive limits but not within 128 MiB of memory.
    let paragraph = "<w:p><w:r><w:t>Python PostgreSQL Rust </w:t></w:r></w:p>".repeat(2_600_000);
    let document = format!(
        "<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{paragraph}</w:body></w:document>"
    );
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", document.as_bytes()),
    ]);
    drop(document);
    // 9 MiB of text (under the body limit): read within 64 MiB, not normalized.
    let text = "Python Rust PostgreSQL\n".repeat(400_000).into_bytes();
    for (document, limit_mb) in [(docx, "128"), (text, "64")] {
        let env = common::env()
            .with("CV_PARSER_MEMORY_MB", limit_mb)
            .with("CV_MAX_INFLATED_MB", "512")
            .with("CV_MAX_TEXT_CHARS", "100000000");
        let server = start(env).await;
        let detail = problem(
            &server,
            document,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unreadable-document",
        )
        .await;
        assert!(
            detail.contains(&format!("more than the {limit_mb} MiB of memory")),
            "{detail}"
        );
        still_up(&server).await;
    }
    let pool = testkit::TestDb::new().await.pool().await;
    let answer: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(answer, 1);
}

/// A child that answers more than any CV's text can take is cut off: a clear 422, not a
/// service holding gigabytes.
#[tokio::test]
async fn an_oversized_answer_from_the_parser_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chatty");
    std::fs::write(
        &path,
        "#!/bin/sh\ncat >/dev/null\nhead -c 100000000 /dev/zero\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .unwrap();
    let env = common::env().with("CV_PARSER", path.to_str().unwrap());
    let server = start(env).await;
    let detail = problem(
        &server,
        b"Jean Martin".to_vec(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unreadable-document",
    )
    .await;
    assert!(detail.contains("answered more than"), "{detail}");
    let live = server.get("/health/live").send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
}

/// Nothing of a CV reaches the logs or the metrics, whether it is read or refused.
#[tokio::test]
async fn cv_content_never_reaches_logs_or_metrics() {
    let logs = testkit::logs::capture();
    let server = start(common::env()).await;
    let marker = "Quenouillard";
    let cv = format!("{marker} Zéphyrine\nExpérience professionnelle\nCheffe de projet — {marker} SA\n2019 - 2021\n");
    let read = analysis(&server, cv.clone().into_bytes()).await;
    assert!(read.text.contains(marker));
    let response = server
        .authed(Method::POST, "/cv")
        .json(&json!({"text": cv}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let refused = format!("%PDF-1.4 {marker}");
    assert_eq!(
        post_file(&server, refused.into_bytes()).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let metrics = server.metrics().await;
    assert!(metrics.contains("/cv"), "the requests were counted");
    assert!(!metrics.contains(marker));
    let lines = logs.lines();
    assert!(
        lines.iter().any(|l| l.to_string().contains("CV read")),
        "the requests were logged"
    );
    let leaked: Vec<_> = lines
        .iter()
        .filter(|l| l.to_string().contains(marker))
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
}

#[tokio::test]
async fn text_markdown_latin_1_rtf_and_json_are_read() {
    let server = start(common::env()).await;
    let markdown = "# Jean Martin\n\n## Compétences\n\n- **Python**, [PostgreSQL](https://www.postgresql.org)\n\n## Langues\n\n- Anglais : courant\n";
    let cv = analysis(&server, markdown.as_bytes().to_vec()).await;
    assert!(
        cv.text.starts_with("Jean Martin\n\nCompétences"),
        "{:?}",
        cv.text
    );
    assert_eq!(cv.languages.len(), 1);
    let latin1: Vec<u8> = "Compétences\nPython, gestion de projet\n"
        .chars()
        .map(|c| c as u8)
        .collect();
    let cv = analysis(&server, latin1).await;
    assert!(
        cv.text.contains("Compétences")
            && cv.skills.iter().any(|s| s.evidence == "gestion de projet"),
        "{cv:?}"
    );
    let rtf = documents::from_html(&html("cv-fr"), "rtf", Font::Times);
    let cv = analysis(&server, rtf).await;
    assert!(
        cv.text.contains("Banque Rhodanienne") && cv.text.contains("Compétences"),
        "{}",
        cv.text
    );
    let response = server
        .authed(Method::POST, "/cv")
        .json(&json!({"text": markdown}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// A CV of more text than `CV_MAX_TEXT_CHARS` is refused before analysis and embedding
/// (whose cost grows with the text): a 9 MB text file of repeated lines, and the same
/// text sent as JSON, each a clear 422, and the service still reads the next CV.
#[tokio::test]
async fn text_past_the_limit_is_refused_before_analysis() {
    let server = start(common::env()).await;
    let flood = "Python\nLoisirs\n".repeat(9 * 1024 * 1024 / 15);
    let detail = problem(
        &server,
        flood.clone().into_bytes(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "text-too-long",
    )
    .await;
    assert!(
        detail.contains("more than the 50000 read (CV_MAX_TEXT_CHARS)"),
        "{detail}"
    );
    let response = server
        .authed(Method::POST, "/cv")
        .json(&json!({ "text": flood[..200_000] }))
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "/cv").await;
    assert_eq!(body["type"], "urn:jobmatch:problem:text-too-long", "{body}");
    // Under a raised limit, the same text is read.
    let limited = start(common::env().with("CV_MAX_TEXT_CHARS", "60000")).await;
    let cv = analysis(&limited, flood.as_bytes()[..55_000].to_vec()).await;
    assert!(cv.skills.iter().any(|s| s.label == "Python"));
    still_up(&server).await;
}
