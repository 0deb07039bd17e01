//! What the binary prints about itself: the CRDs, shell completions, and the man pages (the command's and
//! each subcommand's, each with the exit codes).

#[cfg(feature = "kube")]
use super::CrdKind;
use super::{exit, Cli};

/// `crd`: the CustomResourceDefinitions as YAML.
#[cfg(feature = "kube")]
pub fn crds(kind: Option<CrdKind>) -> u8 {
    use kube::CustomResourceExt;
    let check = crate::spec::BucketAccessCheck::crd();
    let scope = crate::controller::scope::BucketAccessScope::crd();
    let crds = match kind {
        Some(CrdKind::Check) => vec![check],
        Some(CrdKind::Scope) => vec![scope],
        None => vec![check, scope],
    };
    let mut out = String::new();
    for crd in crds {
        match serde_saphyr::to_string(&crd) {
            Ok(yaml) => {
                if !out.is_empty() {
                    out.push_str("---\n");
                }
                out.push_str(&yaml);
            }
            Err(e) => {
                eprintln!("error: cannot render the CRD: {e}");
                return exit::INVALID_INPUT;
            }
        }
    }
    print!("{out}");
    exit::OK
}

/// `completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> u8 {
    use clap::CommandFactory;
    let mut command = Cli::command();
    clap_complete::generate(
        shell,
        &mut command,
        "bucket-access-operator",
        &mut std::io::stdout(),
    );
    exit::OK
}

/// `man [SUBCOMMAND]`.
pub fn man(subcommand: Option<&str>) -> u8 {
    use clap::CommandFactory;
    let command = Cli::command();
    let page = match subcommand {
        None => clap_mangen::Man::new(command),
        Some(name) => match command.find_subcommand(name) {
            // The page's title names the whole command line: `bucket-access-operator-explain`.
            Some(sub) => clap_mangen::Man::new(sub.clone().after_help(exit::TABLE))
                .title(format!("bucket-access-operator-{name}")),
            None => {
                eprintln!("error: no subcommand `{name}`");
                return exit::USAGE;
            }
        },
    };
    match page.render(&mut std::io::stdout()) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: cannot write the man page: {e}");
            exit::INVALID_INPUT
        }
    }
}
