use cv_ingestion::sandbox;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some(sandbox::CHILD_ARG) => return sandbox::child_main(&args.next().unwrap_or_default()),
        Some(sandbox::CHECK_ARG) => return sandbox::check_main(&args.next().unwrap_or_default()),
        _ => {}
    }
    platform::run_main(
        cv_ingestion::NAME,
        platform::LogTarget::Stdout,
        cv_ingestion::Config::from_env,
        cv_ingestion::serve,
    )
}
