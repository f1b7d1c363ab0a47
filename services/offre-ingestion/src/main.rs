fn main() -> std::process::ExitCode {
    platform::run_main(
        offre_ingestion::NAME,
        offre_ingestion::Config::from_env,
        offre_ingestion::serve,
    )
}
