//! Every Markdown file of the repository renders as written: no code fence is left open (an open fence turns
//! the rest of the page into one code block), and every relative link points at a file that exists.

use std::path::{Path, PathBuf};

/// The Markdown files of the repository (build output, virtualenvs and git's own files left out).
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut todo = vec![root.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                if !["target", ".git", ".venv", "node_modules"].contains(&name.as_str()) {
                    todo.push(path);
                }
            } else if name.ends_with(".md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The line of the fence left open, if any: a fence closes with at least as many of the same character.
fn open_fence(text: &str) -> Option<usize> {
    let mut open: Option<(char, usize, usize)> = None;
    for (at, line) in text.lines().enumerate() {
        let line = line.trim_start();
        let Some(c) = line.chars().next().filter(|c| *c == '`' || *c == '~') else {
            continue;
        };
        let run = line.chars().take_while(|x| *x == c).count();
        if run < 3 {
            continue;
        }
        open = match open {
            None => Some((c, run, at + 1)),
            Some((o, n, _)) if o == c && run >= n && line[run..].trim().is_empty() => None,
            still => still,
        };
    }
    open.map(|(_, _, line)| line)
}

/// The relative link targets of a text (`[text](target)`), without their anchors.
fn relative_links(text: &str) -> Vec<&str> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split([')', ' ']).next())
        .filter(|t| {
            !t.starts_with("http:") && !t.starts_with("https:") && !t.starts_with("mailto:")
        })
        .map(|t| t.split('#').next().unwrap_or_default())
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn every_markdown_file_closes_its_fences_and_links_to_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = markdown_files(root);
    assert!(files.len() >= 10, "{files:?}");
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        if let Some(line) = open_fence(&text) {
            problems.push(format!(
                "{}:{line}: a code fence is never closed",
                file.display()
            ));
        }
        for link in relative_links(&text) {
            if !file.parent().unwrap().join(link).exists() {
                problems.push(format!("{}: `{link}` does not exist", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The reader finds what it must: an unclosed fence, a longer closing fence, a link with an anchor.
#[test]
fn the_markdown_reader_sees_open_fences_and_links() {
    assert_eq!(open_fence("a\n```sh\nx\n```\n"), None);
    assert_eq!(open_fence("```sh\nx\n``` trailing\n"), Some(1));
    assert_eq!(open_fence("````\n```\n````\n"), None);
    assert_eq!(
        relative_links("[a](docs/x.md#part) [b](https://e.com) [c](#here)"),
        ["docs/x.md"]
    );
}

/// The fenced blocks of `text` whose info string is `lang`.
fn blocks<'t>(text: &'t str, lang: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<Vec<&'t str>> = None;
    for line in text.lines() {
        match current.as_mut() {
            None if line.trim_start() == format!("```{lang}") => current = Some(Vec::new()),
            None => {}
            Some(_) if line.trim_start().starts_with("```") => {
                found.push(current.take().unwrap_or_default().join("\n"));
            }
            Some(lines) => lines.push(line),
        }
    }
    found
}

/// The README is the front door: at most 200 lines; the check it shows is a valid manifest (as `check -f`
/// reads it), and every command of the binary it shows is one the binary has.
#[test]
fn the_readme_is_short_and_what_it_shows_works() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 200,
        "the README has {lines} lines: move detail into docs/"
    );
    let manifests = blocks(&readme, "yaml");
    assert_eq!(manifests.len(), 1, "one check manifest: {manifests:?}");
    let documents = bucket_access_api::manifests::documents("README.md", &manifests[0]).unwrap();
    for document in documents {
        let manifest = bucket_access_api::manifests::strict_manifest(document)
            .unwrap_or_else(|e| panic!("the README's check: {e}"));
        assert!(
            manifest.spec.checked().is_ok(),
            "the README's check is invalid"
        );
    }
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for shell in blocks(&readme, "sh") {
        for line in shell.lines() {
            let mut words = line.split_whitespace();
            let command = match (words.next(), words.next(), words.next()) {
                (Some("bucket-access-operator"), Some(command), _) => command,
                (Some("kubectl"), Some("bac"), Some(command)) => command,
                (Some("make"), Some(target), _) => {
                    let makefile = std::fs::read_to_string(root.join("Makefile")).unwrap();
                    assert!(
                        makefile
                            .lines()
                            .any(|l| l.starts_with(&format!("{target}:"))),
                        "the README runs `make {target}`, which the Makefile lacks"
                    );
                    continue;
                }
                _ => continue,
            };
            assert!(
                help.lines().any(|l| l.trim_start().starts_with(command)),
                "the README shows `{command}`, which `bucket-access-operator --help` does not list"
            );
        }
    }
}
