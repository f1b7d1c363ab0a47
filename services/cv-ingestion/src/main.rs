fn main() -> std::process::ExitCode {
    platform::run_main(
        cv_ingestion::NAME,
        platform::LogTarget::Stdout,
        cv_ingestion::Config::from_env,
        cv_ingestion::serve,
    )
}
