//! A candidate as ranking reads them: the CV's text, job titles and skills. The GUI
//! builds one from its profile tables, `make eval` from `POST /cv`'s analysis, and both
//! make the profile's embedding text and `POST /match`'s profile with the same code.

use crate::{
    CvAnalysis, CvSection, CvSectionKind, MatchProfile, ProfileSkill, MAX_PROFILE_SKILLS,
    MAX_PROFILE_TITLES,
};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CandidateProfile {
    /// The CV's text (empty without a CV).
    pub cv_text: String,
    /// The CV's sections, as cv-ingestion found them.
    pub sections: Vec<CvSection>,
    /// `fr` or `en`, as cv-ingestion read the CV.
    pub language: Option<String>,
    /// Job titles, most telling first.
    pub titles: Vec<String>,
    pub skills: Vec<ProfileSkill>,
}

impl CandidateProfile {
    /// What cv-ingestion read in a CV: the titles it states (headline, sentences), then
    /// its jobs in the CV's order (usually the latest first), and its skills.
    pub fn from_analysis(analysis: &CvAnalysis) -> Self {
        Self {
            cv_text: analysis.text.clone(),
            sections: analysis.sections.clone(),
            language: analysis.language.clone(),
            titles: analysis
                .titles
                .iter()
                .cloned()
                .chain(analysis.experiences.iter().map(|e| e.title.clone()))
                .collect(),
            skills: analysis
                .skills
                .iter()
                .map(|s| ProfileSkill {
                    label: s.label.clone(),
                    code: s.code.clone(),
                })
                .collect(),
        }
    }

    /// The text the profile's embedding is made from: its job titles first, then the CV's
    /// text about jobs, then its skills (so that the embedding follows the candidate's
    /// edits). `make eval` compared the orders: the CV first (before) ranked worst; the
    /// skills before the CV's text added the noise of loosely read skills.
    pub fn embedding_text(&self) -> String {
        let titles = distinct(self.titles.iter().map(String::as_str));
        let skills = distinct(self.skills.iter().map(|s| s.label.as_str()));
        let mut parts = vec![titles.join(", "), self.text_about_jobs(), skills.join(", ")];
        parts.retain(|part| !part.is_empty());
        parts.join("\n")
    }

    /// The CV's text without its interests, contact details and additional information:
    /// hobbies and "first aid certificate, volunteer at a food bank" say little of the
    /// jobs a candidate is for, and mislead word matching.
    pub fn text_about_jobs(&self) -> String {
        about_jobs(&self.cv_text, &self.sections)
            .concat()
            .trim()
            .to_owned()
    }

    /// The profile of a `POST /match` request, within its limits.
    pub fn match_profile(&self) -> MatchProfile {
        let text = self.text_about_jobs();
        MatchProfile {
            text: (!text.is_empty())
                .then(|| text.chars().take(crate::MAX_PROFILE_TEXT_CHARS).collect()),
            titles: distinct(self.titles.iter().map(String::as_str))
                .into_iter()
                .filter(|t| t.chars().count() <= crate::MAX_PROFILE_TITLE_CHARS)
                .take(MAX_PROFILE_TITLES)
                .map(str::to_owned)
                .collect(),
            skills: self
                .skills
                .iter()
                .filter(|s| s.label.chars().count() <= crate::MAX_PROFILE_SKILL_CHARS)
                .take(MAX_PROFILE_SKILLS)
                .cloned()
                .collect(),
            language: self.language.clone(),
        }
    }
}

/// The parts of a CV's `text` outside its interests, contact and additional sections
/// (headings included), in order.
pub fn about_jobs<'t>(text: &'t str, sections: &[CvSection]) -> Vec<&'t str> {
    let mut parts = Vec::new();
    let mut at = 0;
    let skipped = sections.iter().filter(|s| {
        matches!(
            s.kind,
            CvSectionKind::Interests | CvSectionKind::Contact | CvSectionKind::Additional
        ) && s.start <= s.end
            && s.end <= text.len()
            && text.is_char_boundary(s.start)
            && text.is_char_boundary(s.end)
    });
    for section in skipped {
        let start = heading_start(text, section.start);
        if start > at {
            parts.push(&text[at..start]);
        }
        at = at.max(section.end);
    }
    if at < text.len() {
        parts.push(&text[at..]);
    }
    parts
}

/// The byte offset of the heading line just before a section's body at `body_start`.
pub fn heading_start(text: &str, body_start: usize) -> usize {
    let before = text[..body_start].trim_end_matches('\n');
    before.rfind('\n').map_or(0, |at| at + 1)
}

/// The non-empty items, each once (case and accents aside), in their first order.
fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = std::collections::HashSet::new();
    items
        .map(str::trim)
        .filter(|s| !s.is_empty() && seen.insert(crate::text::fold(s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> CandidateProfile {
        CandidateProfile {
            cv_text: "Marie Curie\nDéveloppeuse Python chez ACME depuis 2019.\n".into(),
            sections: Vec::new(),
            language: Some("fr".into()),
            titles: vec![
                "Développeuse Python".into(),
                "développeuse python".into(),
                "Stagiaire".into(),
            ],
            skills: vec![
                ProfileSkill {
                    label: "Python".into(),
                    code: Some("esco:python".into()),
                },
                ProfileSkill {
                    label: "Django".into(),
                    code: None,
                },
            ],
        }
    }

    #[test]
    fn the_embedding_text_puts_titles_first_and_skills_last() {
        assert_eq!(
            profile().embedding_text(),
            "Développeuse Python, Stagiaire\nMarie Curie\nDéveloppeuse Python chez ACME depuis 2019.\nPython, Django"
        );
        assert_eq!(CandidateProfile::default().embedding_text(), "");
    }

    #[test]
    fn hobbies_contact_and_additional_information_are_left_out() {
        let cv_text = "Infirmière\nEXPÉRIENCE\n2019 - 2024 Infirmière, CHU\nLOISIRS\nFootball, photo\nCOMPÉTENCES\nSoins\nINFORMATIONS COMPLÉMENTAIRES\nBénévole\n";
        let section = |kind, heading: &str, body: &str| {
            let start = cv_text.find(heading).unwrap() + heading.len() + 1;
            CvSection {
                kind,
                heading: heading.into(),
                start,
                end: start + body.len(),
            }
        };
        let p = CandidateProfile {
            cv_text: cv_text.into(),
            sections: vec![
                section(
                    CvSectionKind::Experience,
                    "EXPÉRIENCE",
                    "2019 - 2024 Infirmière, CHU\n",
                ),
                section(CvSectionKind::Interests, "LOISIRS", "Football, photo\n"),
                section(CvSectionKind::Skills, "COMPÉTENCES", "Soins\n"),
                section(
                    CvSectionKind::Additional,
                    "INFORMATIONS COMPLÉMENTAIRES",
                    "Bénévole\n",
                ),
            ],
            ..CandidateProfile::default()
        };
        assert_eq!(
            p.text_about_jobs(),
            "Infirmière\nEXPÉRIENCE\n2019 - 2024 Infirmière, CHU\nCOMPÉTENCES\nSoins"
        );
        assert_eq!(
            p.match_profile().text.as_deref(),
            Some(p.text_about_jobs().as_str())
        );
    }

    #[test]
    fn the_match_profile_keeps_within_the_contracts_limits() {
        let mut p = profile();
        p.titles.extend((0..40).map(|i| format!("Titre {i}")));
        p.titles.push("x".repeat(500));
        p.cv_text = "é".repeat(30_000);
        let m = p.match_profile();
        assert_eq!(m.titles.len(), MAX_PROFILE_TITLES);
        assert_eq!(m.titles[..2], ["Développeuse Python", "Stagiaire"]);
        assert_eq!(
            m.text.unwrap().chars().count(),
            crate::MAX_PROFILE_TEXT_CHARS
        );
        assert_eq!(m.skills.len(), 2);
        assert_eq!(m.language.as_deref(), Some("fr"));
    }
}
