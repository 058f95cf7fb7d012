//! `berth show`: render a plan for a person.

use std::io::IsTerminal;

use berth_planner::plan::Plan;
use berth_planner::render::{RenderOptions, render_markdown, render_text};

use crate::args::{ColorWhen, ShowArgs, ShowFormat};
use crate::commands::{read_json, write_artefact};
use crate::exit;

pub fn run(args: ShowArgs) -> anyhow::Result<i32> {
    let plan: Plan = read_json(&args.plan, "plan")?;
    let color = match args.color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let options = RenderOptions {
        color: color && matches!(args.format, ShowFormat::Text),
        show_steps: args.steps,
        show_sensitive: args.show_sensitive,
    };
    let text = match args.format {
        ShowFormat::Text => render_text(&plan, &options),
        ShowFormat::Markdown => render_markdown(&plan, &options),
        ShowFormat::Json => {
            let mut json = serde_json::to_string_pretty(&plan)?;
            json.push('\n');
            json
        }
    };
    write_artefact(None, &text)?;
    Ok(exit::SUCCESS)
}
