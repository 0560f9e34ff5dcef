//! `opsdeck completions SHELL` and `opsdeck man`: generated from the same clap
//! definitions that parse the command line, so they cannot drift from it.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;
use color_eyre::eyre::Result;

use super::Cli;

/// The shells `opsdeck completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

impl From<CompletionShell> for Shell {
    fn from(s: CompletionShell) -> Shell {
        match s {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
        }
    }
}

/// Prints the completion script for `shell` to `out`.
pub fn completions(shell: CompletionShell, out: &mut impl Write) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    clap_complete::generate(Shell::from(shell), &mut cmd, "opsdeck", out);
    Ok(ExitCode::SUCCESS)
}

/// Prints the roff man page (section 1). One page for the whole tool: after
/// clap_mangen's page for `opsdeck`, each subcommand gets a section with its
/// synopsis and options, so `man opsdeck` shows every flag.
pub fn man(out: &mut impl Write) -> Result<ExitCode> {
    let cmd = Cli::command();
    clap_mangen::Man::new(cmd.clone()).render(out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        render_sub(sub, "opsdeck", out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn render_sub(cmd: &clap::Command, parent: &str, out: &mut impl Write) -> Result<()> {
    let name = format!("{parent} {}", cmd.get_name());
    let man = clap_mangen::Man::new(cmd.clone().bin_name(name.clone()));
    let mut synopsis = Vec::new();
    man.render_synopsis_section(&mut synopsis)?;
    // clap_mangen titles this part SYNOPSIS, as on a page of its own; here
    // it is the subcommand's section, so it carries the subcommand's name.
    let synopsis = String::from_utf8_lossy(&synopsis).replacen(
        ".SH SYNOPSIS",
        &format!(".SH \"{}\"", name.to_uppercase()),
        1,
    );
    out.write_all(synopsis.as_bytes())?;
    if let Some(about) = cmd.get_long_about().or(cmd.get_about()) {
        let mut roff = clap_mangen::roff::Roff::new();
        roff.control("PP", std::iter::empty::<&str>());
        roff.text([clap_mangen::roff::roman(about.to_string())]);
        roff.to_writer(out)?;
    }
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        let mut options = Vec::new();
        man.render_options_section(&mut options)?;
        let options = String::from_utf8_lossy(&options).replacen(".SH OPTIONS", ".SS Options", 1);
        out.write_all(options.as_bytes())?;
    }
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        render_sub(sub, &name, out)?;
    }
    Ok(())
}
