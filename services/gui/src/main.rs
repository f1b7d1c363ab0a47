fn main() -> std::process::ExitCode {
    platform::run_main(
        gui::NAME,
        platform::LogTarget::Stdout,
        gui::Config::from_env,
        gui::serve,
    )
}
