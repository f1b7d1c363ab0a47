/// `gui`: the candidates' web application; `gui worker`: its events worker (run beside
/// it: new offers reach candidates, see `gui::worker`).
fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => platform::run_main(
            gui::NAME,
            platform::LogTarget::Stdout,
            gui::Config::from_env,
            gui::serve,
        ),
        Some("worker") => platform::run_main(
            "gui-worker",
            platform::LogTarget::Stdout,
            gui::worker::WorkerConfig::from_env,
            gui::worker::run,
        ),
        Some(other) => {
            eprintln!("gui: unknown command {other:?}; expected `serve` (the default) or `worker`");
            std::process::ExitCode::from(2)
        }
    }
}
