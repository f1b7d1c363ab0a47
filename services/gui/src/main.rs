fn main() -> std::process::ExitCode {
    platform::run_main(gui::NAME, gui::Config::from_env, gui::serve)
}
