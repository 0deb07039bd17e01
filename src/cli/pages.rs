//! What the binary prints about itself: the CRDs, shell completions, and the man pages (the command's and
//! each subcommand's, each with the exit codes).

use super::{Cli, CliError, Exit};
use std::io::Write;

/// Which CRD `crd --kind` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CrdKind {
    /// `BucketAccessCheck`.
    Check,
    /// `BucketAccessScope`.
    Scope,
}

/// `crd`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct CrdArgs {
    /// Only this one.
    #[arg(long, value_enum)]
    pub kind: Option<CrdKind>,
}

/// `completions`' arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// `man`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ManArgs {
    /// The subcommand (`check`, `diagnose`, `explain`, ...).
    pub subcommand: Option<String>,
}

/// `crd`: the CustomResourceDefinitions as YAML.
pub fn crds(args: &CrdArgs, out: &mut impl Write) -> Result<Exit, CliError> {
    use kube::CustomResourceExt;
    let check = bucket_access_api::spec::BucketAccessCheck::crd();
    let scope = bucket_access_api::scope::BucketAccessScope::crd();
    let crds = match args.kind {
        Some(CrdKind::Check) => vec![check],
        Some(CrdKind::Scope) => vec![scope],
        None => vec![check, scope],
    };
    let mut text = String::new();
    for crd in crds {
        let yaml = serde_saphyr::to_string(&crd)
            .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
        if !text.is_empty() {
            text.push_str("---\n");
        }
        text.push_str(&yaml);
    }
    out.write_all(text.as_bytes()).map_err(CliError::Output)?;
    Ok(Exit::Ok)
}

/// `schema`: the JSON Schema of the snapshot format.
pub fn schema(out: &mut impl Write) -> Result<Exit, CliError> {
    let text = serde_json::to_string_pretty(&bucket_access_api::schema::snapshot_schema())
        .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
    writeln!(out, "{text}").map_err(CliError::Output)?;
    Ok(Exit::Ok)
}

/// `completions SHELL`.
pub fn completions(args: &CompletionsArgs, out: &mut impl Write) -> Result<Exit, CliError> {
    use clap::CommandFactory;
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "bucket-access-operator", out);
    Ok(Exit::Ok)
}

/// `man [SUBCOMMAND]`.
pub fn man(args: &ManArgs, out: &mut impl Write) -> Result<Exit, CliError> {
    use clap::CommandFactory;
    let command = Cli::command();
    let page = match args.subcommand.as_deref() {
        None => clap_mangen::Man::new(command),
        Some(name) => match command.find_subcommand(name) {
            // The page's title names the whole command line: `bucket-access-operator-explain`.
            Some(sub) => clap_mangen::Man::new(sub.clone().after_help(Exit::TABLE))
                .title(format!("bucket-access-operator-{name}")),
            None => return Err(CliError::Usage(format!("no subcommand `{name}`"))),
        },
    };
    page.render(out).map_err(CliError::Output)?;
    Ok(Exit::Ok)
}
