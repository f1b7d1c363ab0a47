//! France Travail's contract types as candidates read them: the preferences the profile
//! offers, and the labels the matches show.

/// Contract types offered as preferences (France Travail codes) and their labels.
pub const CONTRACTS: [(&str, &str); 6] = [
    ("CDI", "CDI"),
    ("CDD", "CDD"),
    ("MIS", "Intérim"),
    ("SAI", "Saisonnier"),
    ("LIB", "Profession libérale"),
    ("FRA", "Franchise"),
];

/// A contract code as candidates read it: the preferences' labels, and the other codes
/// France Travail uses; an unknown code as it is.
pub fn contract_label(code: &str) -> &str {
    const OTHERS: [(&str, &str); 5] = [
        ("DDI", "CDD d’insertion"),
        ("DIN", "CDI intérimaire"),
        ("CCE", "Profession commerciale"),
        ("TTI", "Travail temporaire d’insertion"),
        ("REP", "Reprise d’entreprise"),
    ];
    CONTRACTS
        .iter()
        .chain(OTHERS.iter())
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label)
}
