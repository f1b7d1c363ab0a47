//! POST /cv on real documents: CVs written in HTML (tests/data) and turned into PDF,
//! DOCX, ODT and RTF by LibreOffice when the tests run, parsed in the service's real
//! child processes, analysed with the real referential and embedded with the real
//! model.

use chrono::{Datelike, NaiveDate};
use shared::{CvAnalysis, CvSectionKind as Kind};
use testkit::documents::{self, Font};

use crate::common;
use crate::common::{analysis, html, start};

fn date(y: i32, m: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, 1)
}

/// Months from `start` to this month, both counted (a job still held).
fn months_to_now(start: NaiveDate) -> u32 {
    let today = chrono::Utc::now().date_naive();
    ((today.year() - start.year()) * 12 + today.month() as i32 - start.month() as i32 + 1) as u32
}

fn kinds(cv: &CvAnalysis) -> Vec<Kind> {
    cv.sections.iter().map(|s| s.kind).collect()
}

/// A job as (title, employer, start, end, months).
type Job<'a> = (
    &'a str,
    Option<&'a str>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<u32>,
);

fn jobs(cv: &CvAnalysis) -> Vec<Job<'_>> {
    cv.experiences
        .iter()
        .map(|e| {
            (
                e.title.as_str(),
                e.employer.as_deref(),
                e.start,
                e.end,
                e.months,
            )
        })
        .collect()
}

/// (language, level) of each language the CV states.
fn languages(cv: &CvAnalysis) -> Vec<(&str, Option<&str>)> {
    cv.languages
        .iter()
        .map(|l| (l.language.as_str(), l.level.as_deref()))
        .collect()
}

/// Every one of `expected` is among the CV's skills.
fn assert_skills(cv: &CvAnalysis, expected: &[&str], context: &str) {
    let skills = skill_labels(cv);
    for skill in expected {
        assert!(
            skills.contains(skill),
            "{context}: {skill} missing from {skills:?}"
        );
    }
}

fn skill_labels(cv: &CvAnalysis) -> Vec<&str> {
    cv.skills.iter().map(|s| s.label.as_str()).collect()
}

/// What holds for every analysis: evidence is the text at its offsets, sections are
/// within the text, the embedding is a unit vector of the model.
fn assert_consistent(cv: &CvAnalysis) {
    for skill in &cv.skills {
        assert_eq!(
            &cv.text[skill.start..skill.end],
            skill.evidence,
            "{skill:?}"
        );
    }
    for section in &cv.sections {
        assert!(
            section.start <= section.end && section.end <= cv.text.len(),
            "{section:?}"
        );
    }
    assert_eq!(cv.embedding.len(), 384);
    let norm: f32 = cv.embedding.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    assert_eq!(cv.embedding_model, shared::embedding::DEFAULT_MODEL);
    assert!(
        !cv.text
            .contains(['\u{FB01}', '\u{FB02}', '\u{FB03}', '\u{AD}']),
        "ligatures and soft hyphens are spelled out"
    );
}

#[tokio::test]
async fn a_french_cv_reads_the_same_from_pdf_docx_and_odt() {
    let server = start(common::env()).await;
    let source = html("cv-fr");
    let mut texts = Vec::new();
    let renderings = ["pdf", "docx", "odt"]
        .into_iter()
        .flat_map(|format| Font::ALL.map(|font| (format, font)));
    for (format, font) in renderings {
        let cv = analysis(&server, documents::from_html(&source, format, font)).await;
        let format = format!("{format} in {}", font.family());
        assert_consistent(&cv);
        assert_eq!(cv.language.as_deref(), Some("fr"), "{format}");
        assert_eq!(
            kinds(&cv),
            [
                Kind::Summary,
                Kind::Experience,
                Kind::Education,
                Kind::Skills,
                Kind::Languages,
                Kind::Interests
            ],
            "{format}"
        );
        assert_eq!(
            jobs(&cv),
            [
                (
                    "Développeuse backend senior",
                    Some("Banque Rhodanienne"),
                    date(2019, 1),
                    None,
                    Some(months_to_now(date(2019, 1).unwrap()))
                ),
                (
                    "Développeuse data",
                    Some("Datalyse SAS"),
                    date(2016, 3),
                    date(2018, 12),
                    Some(34)
                ),
                (
                    "Ingénieure études et développement",
                    Some("Groupe Mutualis"),
                    date(2014, 1),
                    date(2016, 1),
                    Some(24)
                ),
                (
                    "Développeuse web en alternance",
                    Some("Atelier Numérique des Alpes"),
                    date(2012, 9),
                    date(2014, 6),
                    Some(22)
                ),
            ],
            "{format}"
        );
        // Sep 2012 - Dec 2015 (jobs 3 and 4 overlap), Mar 2016 - Dec 2018, Jan 2019 - now.
        let months = 40 + 34 + months_to_now(date(2019, 1).unwrap());
        assert_eq!(
            cv.total_experience_years,
            Some((f64::from(months) / 1.2).round() / 10.0),
            "{format}"
        );
        let education: Vec<_> = cv
            .education
            .iter()
            .map(|e| (e.title.as_str(), e.institution.as_deref(), e.year))
            .collect();
        assert_eq!(
            education,
            [
                (
                    "Master Informatique",
                    Some("Université de Lyon"),
                    Some(2014)
                ),
                (
                    "Licence Informatique",
                    Some("Université Grenoble Alpes"),
                    Some(2012)
                ),
                (
                    "Baccalauréat scientifique",
                    Some("Lycée Jean-Moulin"),
                    Some(2009)
                ),
            ],
            "{format}"
        );
        assert_eq!(
            languages(&cv),
            [
                ("Anglais", Some("C1")),
                ("Espagnol", Some("notions")),
                ("Français", Some("langue maternelle"))
            ],
            "{format}"
        );
        assert_skills(
            &cv,
            &[
                "Python",
                "Rust",
                "PostgreSQL",
                "Docker",
                "Kubernetes",
                "Java",
                "JavaScript",
                "SQL",
                "pandas",
                "Airflow",
                "scikit-learn",
                "Git",
                "Jira",
                "Linux",
                "gestion de projet",
                "Scrum",
                "PHP",
                "scripts shell",
            ],
            &format,
        );
        // Codes are ESCO's: Python's is the one ESCO v1.1.1 gives it.
        let python = cv.skills.iter().find(|s| s.label == "Python").unwrap();
        assert_eq!(
            python.code.as_deref(),
            Some("http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d")
        );
        let shell = cv
            .skills
            .iter()
            .find(|s| s.label == "scripts shell")
            .unwrap();
        assert!(
            shell.evidence.contains("Bash"),
            "a synonym, normalized to the referential's label: {shell:?}"
        );
        assert!(
            !skill_labels(&cv).contains(&"randonnée")
                && !cv.skills.iter().any(|s| s.evidence == "photographie"),
            "hobbies are not skills"
        );
        assert!(
            cv.text.contains("efficacité")
                && cv.text.contains("certification")
                && cv.text.contains("flux")
        );
        texts.push(cv.text);
    }
    // The same words whatever the format (line breaks may differ).
    let words = |t: &str| {
        t.split_whitespace()
            .filter(|w| *w != "•")
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (docx, odt) in texts[4..8].iter().zip(&texts[8..12]) {
        assert_eq!(words(docx), words(odt), "DOCX and ODT");
    }
}

#[tokio::test]
async fn an_english_cv_reads_its_dates_languages_and_skills() {
    let server = start(common::env()).await;
    for font in Font::ALL {
        let cv = analysis(&server, documents::from_html(&html("cv-en"), "pdf", font)).await;
        let font = font.family();
        assert_consistent(&cv);
        assert_eq!(cv.language.as_deref(), Some("en"), "{font}");
        assert_eq!(
            kinds(&cv),
            [
                Kind::Summary,
                Kind::Experience,
                Kind::Education,
                Kind::Skills,
                Kind::Languages
            ],
            "{font}"
        );
        let starts: Vec<_> = cv.experiences.iter().map(|e| (e.start, e.end)).collect();
        assert_eq!(
            starts,
            [
                (date(2020, 3), None),
                (date(2017, 1), date(2020, 2)),
                (date(2014, 1), date(2016, 1)),
                (date(2012, 6), date(2013, 12))
            ],
            "{font}"
        );
        assert_eq!(
            languages(&cv),
            [
                ("French", Some("native")),
                ("English", Some("fluent")),
                ("German", Some("B1"))
            ],
            "{font}"
        );
        // English labels for an English CV.
        assert_skills(
            &cv,
            &[
                "infection control",
                "intravenous infusion",
                "apply wound dressings",
                "administer prescribed medication",
                "intensive care medicine",
            ],
            font,
        );
    }
}

#[tokio::test]
async fn two_column_cvs_keep_each_column_whole() {
    let server = start(common::env()).await;
    for (name, sidebar_skill, main_heading) in [
        (
            "cv-fr-2col",
            "Gestion des stocks",
            "Expérience professionnelle",
        ),
        ("cv-en-2col", "Risk management", "Work Experience"),
    ] {
        for font in Font::ALL {
            let cv = analysis(&server, documents::from_html(&html(name), "pdf", font)).await;
            let name = format!("{name} in {}", font.family());
            assert_consistent(&cv);
            let skills = cv
                .sections
                .iter()
                .find(|s| s.kind == Kind::Skills)
                .unwrap_or_else(|| panic!("{name}: {:?}", cv.sections));
            let body = &cv.text[skills.start..skills.end];
            assert!(
                body.contains(sidebar_skill),
                "{name}: the sidebar's skills stay together: {body:?}"
            );
            assert!(
                !body.contains(main_heading),
                "{name}: no main-column text inside the sidebar: {body:?}"
            );
            assert_eq!(cv.experiences.len(), 3, "{name}: {:?}", cv.experiences);
            assert!(
                cv.experiences
                    .iter()
                    .all(|e| e.employer.is_some() && e.start.is_some()),
                "{name}: {:?}",
                cv.experiences
            );
        }
    }
}

/// An employer's name is no skill: "Électricité Durand" gives no "électricité" unless the
/// CV lists it elsewhere.
#[tokio::test]
async fn an_employers_name_is_not_a_skill() {
    let server = start(common::env()).await;
    let cv = |skills: &str| {
        format!(
            "Claire Martin\nExpérience professionnelle\nComptable\nÉlectricité Durand, Lyon\nmars 2019 - juin 2024\nTenue des comptes.\nCompétences\n{skills}\n"
        )
    };
    let read = |text: String| {
        let server = &server;
        async move {
            let response = server
                .authed(reqwest::Method::POST, "/cv")
                .json(&serde_json::json!({ "text": text }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.json::<CvAnalysis>().await.unwrap()
        }
    };
    let without = read(cv("comptabilité\nExcel")).await;
    assert_eq!(
        without.experiences[0].employer.as_deref(),
        Some("Électricité Durand")
    );
    assert!(
        !skill_labels(&without).contains(&"électricité"),
        "{:?}",
        skill_labels(&without)
    );
    let with = read(cv("comptabilité\nélectricité")).await;
    assert!(
        skill_labels(&with).contains(&"électricité"),
        "{:?}",
        skill_labels(&with)
    );
}

/// A CV written in Word's styles and markup (`Title`, `Heading1` in capitals by style,
/// a job's period at a right tab stop, the employer below it, skills in a borderless
/// table, a header and a PAGE field), read as the DOCX and as LibreOffice turns it into
/// a PDF and an ODT, in every font: both jobs whole, every skill, no column invented.
#[tokio::test]
async fn a_cv_written_in_word_styles_is_read_whole() {
    use documents::word::{bullet, flagged, paragraph, run, tabbed, table};
    let server = start(common::env()).await;
    let skills = [
        "comptabilité",
        "facturation",
        "rapprochement bancaire",
        "Excel",
    ];
    let body = [
        paragraph("Title", &run("Claire Martin")),
        paragraph("Subtitle", &run("Comptable")),
        paragraph("Heading1", &run("Expérience professionnelle")),
        tabbed(
            "Heading2",
            &flagged("Comptable générale"),
            "mars 2019 – aujourd'hui",
        ),
        paragraph("", &run("Banque Rhodanienne, Lyon")),
        bullet("Tenue des comptes et clôtures mensuelles."),
        tabbed(
            "Heading2",
            &flagged("Assistante comptable"),
            "09/2015 – 02/2019",
        ),
        paragraph("", &run("Datalyse SAS, Villeurbanne")),
        bullet("Saisie des factures fournisseurs."),
        paragraph("Heading1", &run("Compétences")),
        table(&skills, 2),
        paragraph("Heading1", &run("Langues")),
        paragraph("", &run("Anglais : courant")),
    ]
    .concat();
    let header = paragraph("", &run("Claire Martin — Comptable"));
    for font in Font::ALL {
        let docx =
            documents::word_docx(&body, &header, &documents::word::page_number_footer(), font);
        for format in ["docx", "pdf", "odt"] {
            let cv = analysis(&server, documents::from_docx(&docx, format)).await;
            let name = format!("{format} in {}", font.family());
            assert_consistent(&cv);
            let read: Vec<_> = jobs(&cv)
                .into_iter()
                .map(|j| (j.0, j.1, j.2, j.3))
                .collect();
            assert_eq!(
                read,
                [
                    (
                        "Comptable générale",
                        Some("Banque Rhodanienne"),
                        date(2019, 3),
                        None
                    ),
                    (
                        "Assistante comptable",
                        Some("Datalyse SAS"),
                        date(2015, 9),
                        date(2019, 2)
                    ),
                ],
                "{name}: {}",
                cv.text
            );
            let labels = skill_labels(&cv);
            for skill in skills {
                assert!(
                    labels.iter().any(|l| l.eq_ignore_ascii_case(skill)),
                    "{name}: {skill} in {labels:?}"
                );
            }
            assert_eq!(cv.languages.len(), 1, "{name}: {:?}", cv.languages);
        }
    }
}
