//! Sections of a CV, told by their headings ("Expérience professionnelle", "Skills"...).

use shared::{CvSection as Section, CvSectionKind as SectionKind};

use shared::text::fold;

/// Folded heading words of each kind, French and English. A heading is a short line
/// that starts with one of them.
const HEADINGS: &[(SectionKind, &[&str])] = &[
    (
        SectionKind::Experience,
        &[
            "experience",
            "experiences",
            "parcours professionnel",
            "emplois",
            "work experience",
            "professional experience",
            "employment",
            "work history",
            "career history",
        ],
    ),
    (
        SectionKind::Education,
        &[
            "formation",
            "formations",
            "diplomes",
            "diplome",
            "etudes",
            "cursus",
            "parcours scolaire",
            "education",
            "academic background",
            "qualifications",
        ],
    ),
    (
        SectionKind::Skills,
        &[
            "competences",
            "competence",
            "savoir-faire",
            "savoir faire",
            "aptitudes",
            "connaissances",
            "skills",
            "technical skills",
            "key skills",
            "competencies",
            "expertise",
        ],
    ),
    (
        SectionKind::Languages,
        &["langues", "langue", "languages", "language skills"],
    ),
    (
        SectionKind::Summary,
        &[
            "profil",
            "resume",
            "a propos",
            "objectif",
            "presentation",
            "summary",
            "profile",
            "about me",
            "about",
            "objective",
            "personal statement",
        ],
    ),
    (
        SectionKind::Certifications,
        &[
            "certifications",
            "certification",
            "certificats",
            "habilitations",
            "certificates",
        ],
    ),
    (
        SectionKind::Projects,
        &["projets", "projects", "realisations"],
    ),
    (
        SectionKind::Interests,
        &[
            "centres d'interet",
            "centre d'interet",
            "loisirs",
            "interets",
            "activites extra",
            "hobbies",
            "interests",
            "activities",
        ],
    ),
    (
        SectionKind::Contact,
        &[
            "contact",
            "coordonnees",
            "informations personnelles",
            "personal details",
        ],
    ),
    (
        SectionKind::Additional,
        &[
            "informations complementaires",
            "autres informations",
            "divers",
            "additional information",
            "other information",
            "more about me",
            "extra",
            "references",
        ],
    ),
];

/// Headings that are one only alone on their line: "Extra en restauration" is a job.
const EXACT_ONLY: &[&str] = &["extra", "divers"];

/// The kind of section `line` is the heading of, if it is one.
pub fn heading_kind(line: &str) -> Option<SectionKind> {
    let line = line.trim().trim_end_matches([':', '.', ' ']);
    if line.is_empty() || line.chars().count() > 40 || line.split_whitespace().count() > 5 {
        return None;
    }
    let folded = fold(line);
    HEADINGS.iter().find_map(|(kind, words)| {
        words
            .iter()
            .any(|w| {
                folded == *w
                    || (!EXACT_ONLY.contains(w)
                        && folded
                            .strip_prefix(w)
                            .is_some_and(|rest| rest.starts_with([' ', '(', '&', '/'])))
            })
            .then_some(*kind)
    })
}

/// The sections of `text`, in order. Text before the first heading is in none.
pub fn split(text: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        if let Some(kind) = heading_kind(line) {
            if let Some(last) = sections.last_mut() {
                last.end = line_start;
            }
            sections.push(Section {
                kind,
                heading: line.trim().to_owned(),
                start: offset,
                end: text.len(),
            });
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_in_french_and_english() {
        assert_eq!(
            heading_kind("Expérience professionnelle"),
            Some(SectionKind::Experience)
        );
        assert_eq!(heading_kind("EXPÉRIENCES"), Some(SectionKind::Experience));
        assert_eq!(
            heading_kind("Work Experience:"),
            Some(SectionKind::Experience)
        );
        assert_eq!(
            heading_kind("Centres d’intérêt"),
            Some(SectionKind::Interests)
        );
        assert_eq!(
            heading_kind("Compétences techniques"),
            Some(SectionKind::Skills)
        );
        assert_eq!(heading_kind("Languages"), Some(SectionKind::Languages));
        assert_eq!(
            heading_kind("Expérience de dix ans dans la banque et la finance"),
            None,
            "a sentence is not a heading"
        );
        assert_eq!(heading_kind("Formateur"), None);
        assert_eq!(heading_kind("Extra:"), Some(SectionKind::Additional));
        assert_eq!(heading_kind("Extra en restauration"), None, "a job");
        assert_eq!(
            heading_kind("Informations complémentaires"),
            Some(SectionKind::Additional)
        );
    }

    #[test]
    fn sections_span_to_the_next_heading() {
        let text = "Jean\nProfil\nDéveloppeur.\nCompétences\nRust\nSQL\n";
        let s = split(text);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].kind, SectionKind::Summary);
        assert_eq!(&text[s[0].start..s[0].end], "Développeur.\n");
        assert_eq!(&text[s[1].start..s[1].end], "Rust\nSQL\n");
    }
}
