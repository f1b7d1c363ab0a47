//! What a CV's text says: its language, sections, jobs, diplomas, spoken languages and
//! skills. Pure functions of the text (and of today's date, for jobs still held).

mod dates;
mod education;
mod experience;
mod language;
mod sections;
mod skills;
mod spoken;
mod titles;

use chrono::NaiveDate;
use shared::{CvEducation, CvExperience, CvLanguage, CvSection, CvSectionKind, CvSkill};

pub use skills::Referential;

/// Everything read from a CV's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub language: Option<String>,
    pub sections: Vec<CvSection>,
    pub skills: Vec<CvSkill>,
    pub experiences: Vec<CvExperience>,
    pub titles: Vec<String>,
    pub education: Vec<CvEducation>,
    pub languages: Vec<CvLanguage>,
    /// Years worked, overlapping jobs counted once, to a tenth.
    pub total_experience_years: Option<f64>,
}

/// Bullet characters that start list items in extracted text.
const BULLETS: &[char] = &['•', '-', '*', '–', '—', '▪', '◦', '●', '■', '►', '✓', '·'];

/// `line` without its list bullet.
fn unbulleted(line: &str) -> &str {
    line.trim_start().trim_start_matches(BULLETS).trim_start()
}

pub fn analyze(text: &str, referential: &Referential, today: NaiveDate) -> Analysis {
    let language = language::detect(text);
    let sections = sections::split(text);
    let bodies = |kind: CvSectionKind| {
        sections
            .iter()
            .filter(move |s| s.kind == kind)
            .map(|s| &text[s.start..s.end])
    };

    let jobs: Vec<_> = bodies(CvSectionKind::Experience)
        .flat_map(|body| experience::jobs(body, today))
        .collect();
    let total_experience_years = (!jobs.is_empty()).then(|| {
        let mut ranges: Vec<(i64, i64)> = jobs.iter().map(|(_, p)| p.month_range(today)).collect();
        ranges.sort_unstable();
        let (mut months, mut covered_to) = (0i64, i64::MIN);
        for (start, end) in ranges {
            let start = start.max(covered_to);
            if end > start {
                months += end - start;
                covered_to = end;
            }
        }
        (months as f64 / 12.0 * 10.0).round() / 10.0
    });

    let education = bodies(CvSectionKind::Education)
        .flat_map(education::diplomas)
        .collect();
    let languages = bodies(CvSectionKind::Languages)
        .flat_map(spoken::languages)
        .collect();
    // Hobbies and contact details are not skills ("football", a street name), nor is an
    // employer's name ("Électricité Durand", "Calder Logistics"). In the text's order
    // and disjoint, as `find` expects.
    let mut skip: Vec<(usize, usize)> = sections
        .iter()
        .filter(|s| matches!(s.kind, CvSectionKind::Interests | CvSectionKind::Contact))
        .map(|s| (s.start, s.end))
        .collect();
    for section in sections
        .iter()
        .filter(|s| s.kind == CvSectionKind::Experience)
    {
        let body = &text[section.start..section.end];
        for employer in jobs.iter().filter_map(|(job, _)| job.employer.as_deref()) {
            for (at, _) in body.match_indices(employer) {
                skip.push((section.start + at, section.start + at + employer.len()));
            }
        }
    }
    skip.sort_unstable();
    let skip = skip.into_iter().fold(
        Vec::new(),
        |mut merged: Vec<(usize, usize)>, (start, end)| {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
            merged
        },
    );
    let skills = referential.find(text, &skip, language);
    let about_jobs = shared::profile::about_jobs(text, &sections);
    let titles = titles::titles(
        text,
        sections
            .first()
            .map(|s| shared::profile::heading_start(text, s.start)),
        &about_jobs,
    );

    Analysis {
        language: language.map(str::to_owned),
        sections,
        skills,
        experiences: jobs.into_iter().map(|(job, _)| job).collect(),
        titles,
        education,
        languages,
        total_experience_years,
    }
}
