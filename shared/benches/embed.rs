//! `make bench-embed`: throughput of the configured embedder on 1,000 French offer-length
//! texts (150-250 words) at caller batch 1 and 32, model and peak RSS, and the same
//! measures of Python sentence-transformers on the same texts in the same run, with the
//! ratio. `BENCH_TEXTS` changes the count; `BENCH_REFERENCE=0` skips the reference.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use settings::Env;
use shared::embedding::{self, cosine, EmbeddingConfig, ProviderConfig};

const BATCHES: [usize; 2] = [1, 32];

fn main() -> anyhow::Result<()> {
    let env = Env::from_process();
    let count: usize = env.or("BENCH_TEXTS", 1000)?;
    let config = EmbeddingConfig::from_env(&env)?;
    let texts = offer_texts(count, 20261127);
    let words: Vec<usize> = texts.iter().map(|t| t.split_whitespace().count()).collect();
    println!(
        "bench-embed: {count} French offer texts, {}-{} words (median {})",
        words.iter().min().unwrap(),
        words.iter().max().unwrap(),
        median(&words)
    );
    let dir =
        PathBuf::from(env.or("JOBMATCH_CACHE", "/var/cache/jobmatch".to_owned())?).join("bench");
    std::fs::create_dir_all(&dir)?;
    let texts_file = dir.join("embed-texts.txt");
    let mut file = std::fs::File::create(&texts_file)?;
    for text in &texts {
        writeln!(file, "{text}")?;
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ours = runtime.block_on(measure_ours(&config, &texts))?;
    println!();
    println!(
        "{:<58} {:>9} {:>9} {:>10} {:>9}",
        "engine", "batch 1", "batch 32", "model RSS", "peak RSS"
    );
    ours.print();

    if env.or("BENCH_REFERENCE", 1u8)? == 0 {
        return Ok(());
    }
    let ProviderConfig::Local { model_dir, .. } = &config.provider else {
        println!("(reference skipped: it runs the local model, the provider is http)");
        return Ok(());
    };
    let reference = measure_reference(&env, model_dir, &texts_file)?;
    reference.print();
    println!();
    for (i, batch) in BATCHES.iter().enumerate() {
        println!(
            "ratio at batch {batch:>2}: {:.2}x the reference's throughput",
            ours.texts_per_s[i] / reference.texts_per_s[i]
        );
    }
    println!(
        "RSS: model {:.0} MB vs {:.0} MB; peak {:.0} MB vs {:.0} MB",
        ours.model_rss_mb, reference.model_rss_mb, ours.peak_rss_mb, reference.peak_rss_mb
    );
    let worst = ours
        .sample
        .iter()
        .zip(&reference.sample)
        .map(|(a, b)| cosine(a, b))
        .fold(f64::INFINITY, f64::min);
    println!(
        "agreement on the first {} texts: worst cosine {worst:.7}",
        ours.sample.len()
    );
    Ok(())
}

struct Measure {
    engine: String,
    texts_per_s: Vec<f64>,
    model_rss_mb: f64,
    peak_rss_mb: f64,
    sample: Vec<Vec<f32>>,
}

impl Measure {
    fn print(&self) {
        println!(
            "{:<58} {:>9.1} {:>9.1} {:>7.0} MB {:>6.0} MB",
            self.engine,
            self.texts_per_s[0],
            self.texts_per_s[1],
            self.model_rss_mb,
            self.peak_rss_mb
        );
    }
}

async fn measure_ours(config: &EmbeddingConfig, texts: &[String]) -> anyhow::Result<Measure> {
    let before = proc_status_mb("VmRSS");
    let embedder = embedding::from_config(config).await?;
    embedder.embed(&["warm-up".to_owned()]).await?;
    let model_rss_mb = proc_status_mb("VmRSS") - before;
    let mut texts_per_s = Vec::new();
    for batch in BATCHES {
        let started = Instant::now();
        for chunk in texts.chunks(batch) {
            embedder.embed(chunk).await?;
        }
        texts_per_s.push(texts.len() as f64 / started.elapsed().as_secs_f64());
    }
    let engine = match &config.provider {
        ProviderConfig::Local {
            threads,
            batch_tokens,
            ..
        } => {
            format!("jobmatch local (ONNX Runtime, {threads} threads, {batch_tokens} tokens/pass)")
        }
        ProviderConfig::Http { url, .. } => format!("jobmatch http ({url})"),
    };
    Ok(Measure {
        engine,
        texts_per_s,
        model_rss_mb,
        peak_rss_mb: proc_status_mb("VmHWM"),
        sample: embedder.embed(&texts[..8.min(texts.len())]).await?,
    })
}

fn measure_reference(
    env: &Env,
    model_dir: &std::path::Path,
    texts_file: &std::path::Path,
) -> anyhow::Result<Measure> {
    let cache = env.or("JOBMATCH_CACHE", "/var/cache/jobmatch".to_owned())?;
    let python = format!("{cache}/venv-bench/bin/python");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let script = format!("{manifest}/../scripts/bench/embed_reference.py");
    let batches: Vec<String> = BATCHES.iter().map(ToString::to_string).collect();
    let output = Command::new(&python)
        .arg(script)
        .arg(model_dir)
        .arg(texts_file)
        .arg(batches.join(","))
        .output()
        .map_err(|e| anyhow::anyhow!("{python}: {e} (make bench-embed installs it)"))?;
    if !output.status.success() {
        anyhow::bail!(
            "the reference failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let result: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    Ok(Measure {
        engine: format!(
            "reference: {} ({} threads)",
            result["engine"].as_str().unwrap_or("?"),
            result["threads"]
        ),
        texts_per_s: result["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["texts_per_s"].as_f64().unwrap())
            .collect(),
        model_rss_mb: result["model_rss_mb"].as_f64().unwrap_or(0.0),
        peak_rss_mb: result["peak_rss_mb"].as_f64().unwrap_or(0.0),
        sample: serde_json::from_value(result["sample"].clone())?,
    })
}

/// A value of /proc/self/status, in MB.
fn proc_status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(values: &[usize]) -> usize {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}

/// Deterministic French job-offer texts of 150-250 words, built from offer phrasing
/// (title, company, missions, profile, conditions), so that token counts and vocabulary
/// resemble real France Travail descriptions.
fn offer_texts(count: usize, seed: u64) -> Vec<String> {
    const TITLES: [&str; 12] = [
        "Développeur / Développeuse web full stack",
        "Infirmier / Infirmière de bloc opératoire",
        "Assistant(e) comptable",
        "Technicien / Technicienne de maintenance industrielle",
        "Chargé(e) de clientèle bancaire",
        "Conducteur / Conductrice de poids lourd",
        "Commercial(e) sédentaire B2B",
        "Aide-soignant(e) en EHPAD",
        "Cuisinier / Cuisinière en restauration collective",
        "Data analyst junior",
        "Électricien(ne) du bâtiment",
        "Responsable logistique d'entrepôt",
    ];
    const COMPANIES: [&str; 8] = [
        "Notre entreprise, PME familiale implantée depuis trente ans dans la région,",
        "Acteur reconnu du secteur, notre groupe compte plus de 2 000 collaborateurs et",
        "Cette association à but non lucratif",
        "Start-up en pleine croissance, notre société",
        "Établissement public de santé, le centre hospitalier",
        "Entreprise adaptée engagée dans l'inclusion, notre structure",
        "Leader européen de la distribution, notre enseigne",
        "Collectivité territoriale dynamique, la commune",
    ];
    const ACTIVITIES: [&str; 6] = [
        "recrute pour renforcer ses équipes et accompagner son développement.",
        "recherche un profil motivé pour rejoindre un service en plein essor.",
        "souhaite accueillir un nouveau collaborateur dans le cadre d'un remplacement.",
        "ouvre un poste suite à la création d'une nouvelle agence.",
        "développe ses activités et renforce son pôle opérationnel.",
        "poursuit sa transformation numérique et agrandit ses équipes.",
    ];
    const MISSIONS: [&str; 16] = [
        "Vous assurez le suivi quotidien des dossiers qui vous sont confiés et rendez compte à votre responsable.",
        "Vous participez à la conception, au développement et à la maintenance des applications métiers.",
        "Vous accueillez les patients, préparez le matériel et veillez au respect des règles d'hygiène et de sécurité.",
        "Vous réalisez les opérations de maintenance préventive et corrective sur les équipements de production.",
        "Vous gérez un portefeuille de clients professionnels et développez le chiffre d'affaires de votre secteur.",
        "Vous effectuez les livraisons sur la région dans le respect des délais et de la réglementation.",
        "Vous saisissez les écritures comptables, effectuez les rapprochements bancaires et préparez les déclarations de TVA.",
        "Vous préparez les repas dans le respect des normes HACCP et participez à l'élaboration des menus.",
        "Vous analysez les données, construisez des tableaux de bord et présentez vos résultats aux équipes.",
        "Vous réalisez les installations électriques neuves et la rénovation des logements selon les normes en vigueur.",
        "Vous encadrez une équipe de préparateurs de commandes et optimisez les flux de l'entrepôt.",
        "Vous accompagnez les résidents dans les actes de la vie quotidienne avec bienveillance.",
        "Vous travaillez en lien étroit avec les services commerciaux, techniques et administratifs.",
        "Vous êtes force de proposition pour améliorer les processus et la qualité du service rendu.",
        "Vous contribuez à la formation des nouveaux arrivants et au partage des bonnes pratiques.",
        "Vous veillez à la bonne tenue des stocks et passez les commandes auprès des fournisseurs.",
    ];
    const PROFILES: [&str; 10] = [
        "Titulaire d'un diplôme de niveau bac+2 dans le domaine, vous justifiez d'une première expérience réussie.",
        "Débutant accepté : une formation interne vous sera proposée à votre arrivée.",
        "Vous maîtrisez les outils bureautiques (Excel, Word) et idéalement un logiciel de gestion.",
        "Rigoureux, organisé et autonome, vous appréciez le travail en équipe.",
        "Le permis B est exigé pour les déplacements ponctuels sur les sites de nos clients.",
        "Une expérience de trois ans minimum sur un poste similaire est souhaitée.",
        "Vous avez le sens du service client et une excellente capacité d'écoute.",
        "La connaissance de Python, SQL et d'un framework JavaScript serait un plus.",
        "Votre sens de l'organisation et votre réactivité seront vos meilleurs atouts.",
        "L'anglais professionnel est apprécié pour échanger avec nos partenaires internationaux.",
    ];
    const CONDITIONS: [&str; 10] = [
        "Poste en CDI à temps plein, 35 heures hebdomadaires du lundi au vendredi.",
        "Contrat à durée déterminée de six mois, renouvelable, avec possibilité d'évolution.",
        "Rémunération selon profil entre 24 000 et 30 000 euros bruts annuels, treizième mois.",
        "Tickets restaurant, mutuelle d'entreprise prise en charge à 60 % et prime annuelle.",
        "Horaires en équipe alternée, travail un week-end sur trois.",
        "Télétravail possible deux jours par semaine après la période d'essai.",
        "Poste basé à Lyon, accessible en transports en commun.",
        "Poste basé à Nantes avec des déplacements ponctuels en Pays de la Loire.",
        "Prise de poste dès que possible ; entretien sur site ou en visioconférence.",
        "Salaire mensuel de 2 100 euros bruts, heures supplémentaires majorées.",
    ];
    let mut rng = seed;
    let mut next = move |n: usize| {
        // xorshift64*: deterministic and dependency-free.
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        (rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    };
    (0..count)
        .map(|_| {
            let target = 150 + next(101);
            let mut parts = vec![
                format!("{} (H/F).", TITLES[next(TITLES.len())]),
                format!(
                    "{} {}",
                    COMPANIES[next(COMPANIES.len())],
                    ACTIVITIES[next(ACTIVITIES.len())]
                ),
            ];
            let mut words: usize = parts.iter().map(|p| p.split_whitespace().count()).sum();
            let pools: [&[&str]; 3] = [&MISSIONS, &PROFILES, &CONDITIONS];
            let mut turn = 0;
            while words < target {
                let pool = pools[turn % 3];
                let sentence = pool[next(pool.len())];
                let sentence_words: Vec<&str> = sentence.split_whitespace().collect();
                let take = sentence_words.len().min(target - words);
                parts.push(sentence_words[..take].join(" "));
                words += take;
                turn += 1;
            }
            parts.join(" ")
        })
        .collect()
}
