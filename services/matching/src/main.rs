fn main() -> std::process::ExitCode {
    platform::run_main(matching::NAME, matching::Config::from_env, matching::serve)
}
