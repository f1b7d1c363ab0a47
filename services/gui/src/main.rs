/// `gui`: the candidates' web application; `gui worker`: its events worker (run beside
/// it: new offers reach candidates, see `gui::worker`); `gui export-training-data DIR`
/// and `gui report-variants`: learning from candidates (see `gui::learning`).
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = gui::learning::command(&args) {
        return code;
    }
    match args.first().map(String::as_str) {
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
            eprintln!("gui: unknown command {other:?}; expected `serve` (the default), `worker`, `export-training-data DIR` or `report-variants`");
            std::process::ExitCode::from(2)
        }
    }
}
