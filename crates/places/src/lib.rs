//! French communes with their postal codes (Etalab) and coordinates (GeoNames), from
//! the referentials `make setup` installs (`REFERENTIALS_DIR`): where demo offers are
//! placed, and where candidates say they live.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

/// Great-circle distance in kilometres between two (latitude, longitude) points in
/// degrees: the distance matching's radius filter reads (as its SQL does), and the one
/// the matches page shows.
pub fn distance_km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let a = ((lat2 - lat1).to_radians() / 2.0).sin().powi(2)
        + lat1.to_radians().cos()
            * lat2.to_radians().cos()
            * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
    2.0 * 6371.0088 * a.sqrt().asin()
}

/// A commune with coordinates.
#[derive(Debug, Clone)]
pub struct Commune {
    pub code: String,
    pub name: String,
    /// `name_key(name)`, made once at load for lookups by name.
    pub key: String,
    pub departement: String,
    pub postal_codes: Vec<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u64,
}

#[derive(Deserialize)]
struct EtalabCommune {
    code: String,
    nom: String,
    #[serde(rename = "type")]
    kind: String,
    departement: Option<String>,
    #[serde(rename = "codesPostaux", default)]
    postal_codes: Vec<String>,
    population: Option<u64>,
}

#[derive(Deserialize)]
struct GeoPlace {
    name: String,
    lat: String,
    lng: String,
    country: String,
    admin2: Option<String>,
}

/// A JSON file of the referentials directory.
pub fn read<T: serde::de::DeserializeOwned>(dir: &Path, file: &str) -> anyhow::Result<T> {
    let path = dir.join(file);
    let bytes = std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Lower case, accents and punctuation dropped: "Saint-Étienne" and "Saint Etienne" meet.
/// The accents are folded as every service folds them ([`shared::text::fold`]); hyphens
/// and apostrophes become spaces.
pub fn name_key(name: &str) -> String {
    shared::text::fold(name)
        .replace(['-', '\''], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The current communes that have postal codes and coordinates (`communes.json` and
/// `geonames-cities.json` in `dir`).
pub fn load(dir: &Path) -> anyhow::Result<Vec<Commune>> {
    let places: Vec<GeoPlace> = read(dir, "geonames-cities.json")?;
    let coordinates: HashMap<(String, String), (f64, f64)> = places
        .into_iter()
        .filter(|p| p.country == "FR")
        .filter_map(|p| {
            let lat = p.lat.parse().ok()?;
            let lng = p.lng.parse().ok()?;
            Some(((p.admin2?, name_key(&p.name)), (lat, lng)))
        })
        .collect();
    let etalab: Vec<EtalabCommune> = read(dir, "communes.json")?;
    Ok(etalab
        .into_iter()
        .filter(|c| c.kind == "commune-actuelle" && !c.postal_codes.is_empty())
        .filter_map(|c| {
            let departement = c.departement?;
            let key = name_key(&c.nom);
            let &(latitude, longitude) = coordinates.get(&(departement.clone(), key.clone()))?;
            Some(Commune {
                code: c.code,
                name: c.nom,
                key,
                departement,
                postal_codes: c.postal_codes,
                latitude,
                longitude,
                population: c.population.unwrap_or(1).max(1),
            })
        })
        .collect())
}

/// The commune a person means by `query`: a postal code ("69007") or a name ("Lyon",
/// "saint etienne"), the most populous when several match.
pub fn find<'a>(communes: &'a [Commune], query: &str) -> Option<&'a Commune> {
    let query = query.trim();
    let is_postal_code = query.len() == 5 && query.bytes().all(|b| b.is_ascii_digit());
    let key = name_key(query);
    let matches = |c: &&Commune| {
        if is_postal_code {
            c.postal_codes.iter().any(|p| p == query)
        } else {
            c.key == key
        }
    };
    communes.iter().filter(matches).max_by_key(|c| c.population)
}

#[cfg(test)]
mod tests {
    use super::{distance_km, name_key};

    #[test]
    fn distances_between_known_cities() {
        let paris = (48.8566, 2.3522);
        let lyon = (45.7640, 4.8357);
        // 391-392 km as the crow flies, by every published great-circle calculator.
        let d = distance_km(paris, lyon);
        assert!((d - 391.5).abs() < 1.5, "{d}");
        assert_eq!(distance_km(lyon, paris), d, "symmetric");
        assert_eq!(distance_km(paris, paris), 0.0);
    }

    #[test]
    fn names_meet_whatever_their_accents_case_and_punctuation() {
        assert_eq!(name_key("Saint-Étienne"), "saint etienne");
        assert_eq!(name_key("  SAINT  ETIENNE "), "saint etienne");
        assert_eq!(name_key("L’Haÿ-les-Roses"), "l hay les roses");
        // The same folding as the services' (ligatures, capitals with accents).
        assert_eq!(name_key("Œuvre d'ÉCOLE"), "oeuvre d ecole");
        assert_eq!(name_key("Soins infirmiers"), name_key("SOINS INFIRMIERS"));
    }
}
