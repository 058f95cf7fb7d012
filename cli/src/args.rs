//! Command-line arguments, parsed into raw structs here and validated into
//! requests by the commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Plan and apply Docker Compose projects: review every change before it
/// reaches the engine.
#[derive(Debug, Parser)]
#[command(name = "berth", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub project: ProjectArgs,

    /// Log decisions to stderr (repeat for more detail; `BERTH_LOG` sets a
    /// tracing filter instead).
    #[arg(long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// Docker Compose's project options, accepted before or after the
/// subcommand.
#[derive(Debug, Args, Clone, Default)]
pub struct ProjectArgs {
    /// Compose file; repeat to merge several in order (default: compose.yaml
    /// and its override file in the project directory).
    #[arg(short = 'f', long = "file", global = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Project name (default: `name:` in the compose file, else the project
    /// directory's name).
    #[arg(short = 'p', long = "project-name", global = true, value_name = "NAME")]
    pub project_name: Option<String>,

    /// Project directory (default: the directory of the first compose file).
    #[arg(long, global = true, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,

    /// Environment file for interpolation; repeat for several (default:
    /// `.env` in the project directory).
    #[arg(long = "env-file", global = true, value_name = "FILE")]
    pub env_files: Vec<PathBuf>,

    /// Enable a profile; repeat for several, `*` for all.
    #[arg(long = "profile", global = true, value_name = "PROFILE")]
    pub profiles: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a plan (JSON) that converges the project, as `docker compose up`
    /// would.
    Plan(PlanArgs),
    /// Apply a plan, after checking that the engine has not changed since it
    /// was made.
    Apply(ApplyArgs),
    /// Render a plan for a person, as text or Markdown.
    Show(ShowArgs),
    /// Print what the engine runs for the project, as snapshot JSON.
    Snapshot(SnapshotArgs),
    /// Print the normalized model, or the config hash of services.
    Config(ConfigArgs),
    /// Print the JSON Schema of a berth file format.
    Schema(SchemaArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Services to converge, with their dependencies (default: all).
    pub services: Vec<String>,

    /// Write the plan to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Plan against a snapshot file instead of the engine (no engine needed).
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,

    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Do not converge the named services' dependencies.
    #[arg(long)]
    pub no_deps: bool,

    /// Replace the containers of the targeted services even when unchanged.
    #[arg(long, conflicts_with = "no_recreate")]
    pub force_recreate: bool,

    /// Never replace existing containers, even when they diverged.
    #[arg(long)]
    pub no_recreate: bool,

    /// Replace the dependencies of the targeted services.
    #[arg(long, conflicts_with = "no_recreate")]
    pub always_recreate_deps: bool,

    /// Give replaced containers new anonymous volumes instead of the old
    /// ones (implies --force-recreate).
    #[arg(short = 'V', long, conflicts_with = "no_recreate")]
    pub renew_anon_volumes: bool,

    /// Remove containers of services that are no longer in the compose files.
    #[arg(long)]
    pub remove_orphans: bool,

    /// Start one-shot services again even when they completed successfully
    /// and are up to date, as `docker compose up` does.
    #[arg(long)]
    pub rerun_completed: bool,

    /// Run N containers of SERVICE, overriding `scale`.
    #[arg(long, value_name = "SERVICE=N")]
    pub scale: Vec<String>,

    /// Longest wait for one depends_on condition, and for --wait, during
    /// apply, in seconds (0: no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub wait_timeout: u64,

    /// Make apply wait until every service is running or healthy, as
    /// `docker compose up --wait` does.
    #[arg(long)]
    pub wait: bool,

    /// Replace a volume whose configuration changed, with the containers
    /// that mount it. The volume's data is lost; without this option the
    /// volume is kept as it is, with a warning.
    #[arg(long)]
    pub allow_volume_replace: bool,

    /// Plan the teardown of the project, as `docker compose down` does.
    #[arg(long)]
    pub destroy: bool,

    /// Pull policy for every service, replacing its pull_policy.
    #[arg(
        long,
        value_name = "POLICY",
        value_parser = ["always", "missing", "never", "build", "if_not_present"]
    )]
    pub pull: Option<String>,

    /// Build the images of every service with a build section.
    #[arg(long, conflicts_with = "no_build")]
    pub build: bool,

    /// Build no image, even a missing one.
    #[arg(long)]
    pub no_build: bool,

    /// With --destroy: remove the project's named volumes and the
    /// anonymous volumes of its containers too (their data is lost).
    #[arg(short = 'v', long, requires = "destroy")]
    pub volumes: bool,

    /// With --destroy: remove images too, as `docker compose down --rmi`
    /// does: `local` the images built for the project (those carrying its
    /// label, and the `<project>-<service>` images of services without
    /// `image:`), `all` also every image a service uses.
    #[arg(long, value_enum, value_name = "TYPE", requires = "destroy")]
    pub rmi: Option<RmiArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RmiArg {
    Local,
    All,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file written by `berth plan`.
    pub plan: PathBuf,

    /// How many steps run at once (1 or more).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 4,
        value_parser = parse_parallelism
    )]
    pub parallelism: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ShowFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The plan file written by `berth plan`.
    pub plan: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,

    /// List the engine-level steps too.
    #[arg(long)]
    pub steps: bool,

    /// Show values marked sensitive (environment values) instead of masking
    /// them.
    #[arg(long)]
    pub show_sensitive: bool,

    /// Color the output (default: when stdout is a terminal).
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: ColorWhen,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Write the snapshot to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConfigFormat {
    Json,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Output format of the model.
    #[arg(long, value_enum, default_value_t = ConfigFormat::Json)]
    pub format: ConfigFormat,

    /// Print `service hash` lines for these services (comma-separated, or
    /// `*` for all) instead of the model.
    #[arg(long, value_name = "SERVICES")]
    pub hash: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    Plan,
    Snapshot,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which format.
    pub kind: SchemaKind,
}

/// Parses `--parallelism`, which must let at least one step run.
fn parse_parallelism(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("0 would run no step; give 1 or more".to_owned()),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("{value:?} is not a whole number; give 1 or more")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::{Cli, parse_parallelism};

    #[test]
    fn arguments_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn project_options_go_before_or_after_the_subcommand() {
        use clap::Parser;
        let before = Cli::try_parse_from(["berth", "-p", "app", "plan"]).unwrap();
        let after = Cli::try_parse_from(["berth", "plan", "-p", "app"]).unwrap();
        assert_eq!(before.project.project_name.as_deref(), Some("app"));
        assert_eq!(after.project.project_name.as_deref(), Some("app"));
    }

    #[test]
    fn parallelism_rejects_zero() {
        let error = parse_parallelism("0").unwrap_err();
        assert!(error.contains("give 1 or more"), "{error}");
    }

    #[test]
    fn parallelism_rejects_non_number() {
        let error = parse_parallelism("many").unwrap_err();
        assert!(error.contains("\"many\" is not a whole number"), "{error}");
    }

    #[test]
    fn parallelism_accepts_positive() {
        assert_eq!(parse_parallelism("3"), Ok(3));
    }
}
