fn main() -> std::process::ExitCode {
    platform::run_main(
        matching::NAME,
        platform::LogTarget::Stdout,
        matching::Config::from_env,
        matching::serve,
    )
}
