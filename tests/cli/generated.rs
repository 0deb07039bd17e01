//! Shell completions and the man page, generated from the command-line definitions.

use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_and_the_man_page_name_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let script = run(&["completions", shell]);
        for command in ["check", "diagnose", "simulate", "explain", "run"] {
            assert!(script.contains(command), "{shell}: no `{command}`");
        }
    }
    let page = run(&["man"]);
    assert!(page.contains(".TH bucket-access-operator 1"), "{page}");
    assert!(page.contains("check"), "{page}");
}

#[test]
fn the_version_names_the_revision() {
    let version = run(&["--version"]);
    let (name, rest) = version.trim().split_once(' ').unwrap();
    assert_eq!(name, "bucket-access-operator");
    assert!(rest.starts_with(env!("CARGO_PKG_VERSION")), "{version}");
    let revision = rest
        .split_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no revision in {version}"));
    assert!(!revision.is_empty(), "{version}");
}
