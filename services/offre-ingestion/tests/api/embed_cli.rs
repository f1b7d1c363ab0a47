//! `offre-ingestion embed`: one text per line in, one JSON vector per line out, equal to
//! the library's vectors. Needs `make setup`'s model (make test sources its env file).

use std::io::Write;
use std::process::{Command, Stdio};

use platform::config::Env;
use shared::embedding::{self, cosine, EmbeddingConfig};

#[tokio::test]
async fn embeds_each_line_of_stdin_in_order() {
    let lines = [
        "Développeur Rust (H/F) à Lyon",
        "",
        "Infirmier de nuit, CDI, Lille",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_offre-ingestion"))
        .arg("embed")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{}", lines.join("\n")).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let vectors: Vec<Vec<f32>> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        vectors.len(),
        lines.len(),
        "one line out per line in (the empty one too)"
    );

    let config = EmbeddingConfig::from_env(&Env::from_process()).unwrap();
    let embedder = embedding::from_config(&config).await.unwrap();
    let texts: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let expected = embedder.embed(&texts).await.unwrap();
    for (got, want) in vectors.iter().zip(&expected) {
        assert_eq!(got.len(), 384);
        assert!(cosine(got, want) > 0.99999);
    }
    assert!(
        cosine(&vectors[0], &vectors[2]) < 0.99,
        "different texts, different vectors"
    );
}

#[test]
fn without_the_model_it_says_to_run_make_setup() {
    let output = Command::new(env!("CARGO_BIN_EXE_offre-ingestion"))
        .arg("embed")
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("EMBEDDING_MODEL_DIR") && stderr.contains("make setup"),
        "{stderr}"
    );
}
