//! Diplomas and trainings, read from the education section: "Master Informatique,
//! Université de Lyon, 2014", or the diploma, school and years on lines of their own.

use shared::CvEducation;

use shared::text::fold;

/// Folded words that start a diploma's name.
const DIPLOMAS: &[&str] = &[
    "master",
    "mastere",
    "licence",
    "bachelor",
    "bac",
    "baccalaureat",
    "bts",
    "dut",
    "but",
    "cap",
    "bep",
    "diplome",
    "doctorat",
    "phd",
    "mba",
    "msc",
    "bsc",
    "ba",
    "ma",
    "meng",
    "ingenieur",
    "certificat",
    "certificate",
    "certification",
    "titre",
    "dea",
    "dess",
    "deug",
    "degree",
    "diploma",
    "cqp",
    "deas",
    "dees",
    "deust",
    "prepa",
    "classe",
    "brevet",
    "gcse",
    "a-levels",
    "associate",
    "postgraduate",
    "graduate",
];
/// Folded words that name a school.
const SCHOOLS: &[&str] = &[
    "universite",
    "university",
    "ecole",
    "school",
    "institut",
    "institute",
    "lycee",
    "iut",
    "college",
    "academie",
    "academy",
    "cnam",
    "afpa",
    "greta",
    "ifsi",
    "cfa",
    "insa",
    "iae",
    "polytechnique",
    "faculte",
    "faculty",
    "conservatoire",
];

/// The diplomas of an education section's text, in order.
pub fn diplomas(section: &str) -> Vec<CvEducation> {
    let mut found: Vec<CvEducation> = Vec::new();
    for line in section
        .lines()
        .map(super::unbulleted)
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let parts: Vec<&str> = line
            .split([',', '|', '—', '–'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        // A line of separators alone ("|", "—") says nothing.
        let Some(&first) = parts.first() else {
            continue;
        };
        let year = last_year(line);
        let school = parts
            .iter()
            .skip(1)
            .find(|p| starts_with_any(p, SCHOOLS))
            .copied();
        let is_diploma = starts_with_any(first, DIPLOMAS);
        match found.last_mut() {
            // A line of its own for the school or the year of the diploma above.
            Some(last) if !is_diploma && (last.institution.is_none() || last.year.is_none()) => {
                if last.institution.is_none() && starts_with_any(first, SCHOOLS) {
                    last.institution = Some(first.to_owned());
                }
                if last.year.is_none() {
                    last.year = year;
                }
                continue;
            }
            _ => {}
        }
        if !is_diploma && year.is_none() {
            continue;
        }
        let title = first.to_owned();
        let institution = school
            .or_else(|| parts.get(1).copied().filter(|p| last_year(p).is_none()))
            .map(str::to_owned);
        found.push(CvEducation {
            title,
            institution,
            year,
        });
    }
    found
}

fn starts_with_any(text: &str, words: &[&str]) -> bool {
    let folded = fold(text);
    let first = folded
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .next()
        .unwrap_or("");
    words.contains(&first)
}

/// The last year (1950..=2100) written in `text`.
fn last_year(text: &str) -> Option<i32> {
    text.split(|c: char| !c.is_ascii_digit())
        .rev()
        .filter(|t| t.len() == 4)
        .filter_map(|t| t.parse().ok())
        .find(|y| (1950..=2100).contains(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edu(title: &str, institution: Option<&str>, year: Option<i32>) -> CvEducation {
        CvEducation {
            title: title.into(),
            institution: institution.map(Into::into),
            year,
        }
    }

    #[test]
    fn lines_of_separators_alone_are_skipped() {
        let found = diplomas("Master Informatique, Université de Lyon, 2014\n|\n, —\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].year, Some(2014));
    }

    #[test]
    fn one_line_per_diploma() {
        let section = "Master Informatique, Université de Lyon, 2014
Baccalauréat scientifique, Lycée Jean-Moulin, Annecy, 2009
PRINCE2 Practitioner Certificate, AXELOS, 2017
";
        assert_eq!(
            diplomas(section),
            [
                edu(
                    "Master Informatique",
                    Some("Université de Lyon"),
                    Some(2014)
                ),
                edu(
                    "Baccalauréat scientifique",
                    Some("Lycée Jean-Moulin"),
                    Some(2009)
                ),
                edu(
                    "PRINCE2 Practitioner Certificate",
                    Some("AXELOS"),
                    Some(2017)
                ),
            ]
        );
    }

    #[test]
    fn diploma_school_and_years_on_their_own_lines() {
        let section = "BTS Comptabilité et gestion\nLycée Ampère, Lyon\n2013 - 2015\nDiplôme d'État infirmier\nIFSI de Nantes\n2012\n";
        assert_eq!(
            diplomas(section),
            [
                edu(
                    "BTS Comptabilité et gestion",
                    Some("Lycée Ampère"),
                    Some(2015)
                ),
                edu(
                    "Diplôme d'État infirmier",
                    Some("IFSI de Nantes"),
                    Some(2012)
                ),
            ]
        );
    }
}
