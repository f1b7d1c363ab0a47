fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some(cv_ingestion::sandbox::CHILD_ARG) {
        return cv_ingestion::sandbox::child_main(&args.next().unwrap_or_default());
    }
    platform::run_main(
        cv_ingestion::NAME,
        platform::LogTarget::Stdout,
        cv_ingestion::Config::from_env,
        cv_ingestion::serve,
    )
}
