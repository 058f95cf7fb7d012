//! `berth`: plan and apply Docker Compose projects.
//!
//! stdout carries only the artefact a command produces (a plan, a
//! snapshot, a rendering); progress, warnings and errors go to stderr.

mod args;
mod commands;
mod exit;
mod project;

use std::io::IsTerminal;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    // Usage errors exit with ERROR, not clap's 2, which `plan
    // --detailed-exitcode` reserves for "changes".
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                exit::ERROR
            } else {
                exit::SUCCESS
            };
            let _ = error.print();
            return ExitCode::from(code as u8);
        }
    };
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("berth: error: failed to start the async runtime: {error}");
            return ExitCode::from(exit::ERROR as u8);
        }
    };
    let result = runtime.block_on(run(cli));
    let code = match result {
        Ok(code) => code,
        Err(error) => {
            let code = commands::exit_code_of(&error);
            eprintln!("berth: error: {error:#}");
            code
        }
    };
    // A closed stdout (`berth plan | head`) is a normal end.
    let _ = std::io::stdout().flush();
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Plan(args) => commands::plan::run(&cli.project, args).await,
        Command::Apply(args) => commands::apply::run(&cli.project, args).await,
        Command::Show(args) => commands::show::run(args),
        Command::Snapshot(args) => commands::snapshot::run(&cli.project, args).await,
        Command::Config(args) => commands::config::run(&cli.project, args),
        Command::Schema(args) => commands::schema::run(args),
    }
}

/// Sends tracing output to stderr; `-v` shows decisions, `-vv` everything.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "berth=debug,berth_planner=debug,berth_executor=debug,warn",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal, not for a log file or a pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
