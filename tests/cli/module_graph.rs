//! The module graph of each crate of the workspace, read from its `crate::` and `super::` paths, and the rule
//! that it has no cycle: at every level of the module tree (the crate's top-level modules, then the children
//! of each directory module), the edges between siblings form no cycle.
//!
//! An edge goes from the module a path is written in to the deepest module the path names. An edge between a
//! module and its own ancestor or descendant is no edge (a parent declares its children). Paths inside
//! `#[cfg(test)] mod` blocks are left out (a test may reach anything). For the edges to be the real ones, the
//! rule also refuses what would hide them: a glob import of a crate module (`use super::eval::*`) and an item
//! named through the crate root's re-exports (`crate::Layer` instead of `crate::layers::Layer`). Items the
//! crate root defines itself are its own (the root is every module's ancestor). Paths in inline modules
//! (`mod schema { .. }`) are read from that module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path from its crate root: `[]` is the root, `["attribute", "gaps"]` a file in a directory.
type ModulePath = Vec<String>;

/// The sibling edges of a crate: (parent module, from child, to child), each with the path that makes it.
type Edges = BTreeMap<(ModulePath, String, String), String>;

/// One crate's files, each with the module it holds.
fn modules(src: &Path) -> BTreeMap<ModulePath, PathBuf> {
    let mut out = BTreeMap::new();
    for path in super::architecture::rust_files(&[src.to_path_buf()]) {
        let relative = path.strip_prefix(src).unwrap();
        let mut module: ModulePath = relative
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .collect();
        if matches!(
            module.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            module.pop();
        }
        out.insert(module, path);
    }
    out
}

/// The text of a file without its test modules.
fn without_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    }
}

/// Every path written with `crate::` or `super::` in `text`, made absolute from `module` (the module the file
/// holds). Braced groups are expanded; a glob ends its path with `*`.
fn paths(text: &str, module: &[String]) -> Vec<ModulePath> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    // Inline modules (`mod schema { .. }`) open at a brace depth and close when it comes back.
    let mut depth = 0usize;
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let rest = &text[start..];
        let boundary = start == 0 || {
            let before = bytes[start - 1];
            !(before.is_ascii_alphanumeric() || before == b'_' || before == b':')
        };
        if let Some(name) = rest.strip_prefix("mod ").filter(|_| boundary) {
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if rest[4 + name.len()..].starts_with(" {") {
                inline.push((name.clone(), depth));
                depth += 1;
                start += 6 + name.len();
                continue;
            }
        }
        match bytes[start] {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, at)| *at == depth) {
                    inline.pop();
                }
            }
            _ => {}
        }
        if (rest.starts_with("crate::") || rest.starts_with("super::")) && boundary {
            let mut here = module.to_vec();
            here.extend(inline.iter().map(|(name, _)| name.clone()));
            start += tree(rest, &here, &mut out);
        } else {
            start += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// The names the crate root re-exports (`pub use formats::{CANNED_ACLS, ..}`): naming one of them through
/// `crate::` hides the module that holds it.
fn reexported(root: &str) -> BTreeSet<String> {
    let mut out = Vec::new();
    for statement in root.split("pub use ").skip(1) {
        let statement = statement.split(';').next().unwrap_or_default();
        tree(statement, &[], &mut out);
    }
    out.into_iter().filter_map(|p| p.last().cloned()).collect()
}

/// The paths of one use tree (`a::b`, `a::{b, super::c}`, `a::*`) read from `prefix`, and the length of text
/// it took. `crate` starts from the root and `super` goes up one module, wherever they stand.
fn tree(text: &str, prefix: &[String], out: &mut Vec<ModulePath>) -> usize {
    let mut path = prefix.to_vec();
    let mut at = 0;
    loop {
        let rest = &text[at..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = at + 1;
            for (offset, c) in group.char_indices() {
                let here = at + 1 + offset;
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    let item = &text[item_start..here];
                    let trimmed = item.trim_start();
                    if !trimmed.trim().is_empty() {
                        tree(trimmed, &path, out);
                    }
                    item_start = here + 1;
                    if depth == 0 {
                        return here + 1;
                    }
                }
            }
            return text.len();
        }
        if rest.starts_with('*') {
            path.push("*".to_owned());
            out.push(path);
            return at + 1;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        at += name.len();
        match name.as_str() {
            "" | "self" => {
                out.push(path);
                return at;
            }
            "crate" => path.clear(),
            "super" => {
                path.pop();
            }
            _ => path.push(name),
        }
        match text[at..].strip_prefix("::") {
            Some(_) => at += 2,
            None => {
                out.push(path);
                return at;
            }
        }
    }
}

/// The deepest module of `known` that `path` names.
fn target<'a>(
    path: &[String],
    known: &'a BTreeMap<ModulePath, PathBuf>,
) -> (&'a ModulePath, usize) {
    (0..=path.len())
        .rev()
        .find_map(|n| known.get_key_value(&path[..n]).map(|(k, _)| (k, n)))
        .unwrap()
}

/// The crate's sibling edges (parent module, from child, to child), each with the file that makes it, and
/// the paths that break the rule's preconditions.
fn edges(known: &BTreeMap<ModulePath, PathBuf>) -> (Edges, Vec<String>) {
    let mut edges = BTreeMap::new();
    let mut offences = Vec::new();
    let root = std::fs::read_to_string(&known[&Vec::new()]).unwrap();
    let reexported = reexported(&root);
    for (module, file) in known {
        let text = std::fs::read_to_string(file).unwrap();
        for path in paths(without_tests(&text), module) {
            let shown = format!("{}: `{}`", file.display(), path.join("::"));
            if path.last().is_some_and(|p| p == "*") {
                offences.push(format!("{shown} is a glob import of a crate module"));
                continue;
            }
            let (to, named) = target(&path, known);
            let through_root = path
                .get(named)
                .is_some_and(|name| reexported.contains(name));
            if to.is_empty() && !module.is_empty() && through_root {
                offences.push(format!("{shown} names an item through the crate root"));
                continue;
            }
            let common = module.iter().zip(to).take_while(|(a, b)| a == b).count();
            let (Some(from_child), Some(to_child)) = (module.get(common), to.get(common)) else {
                continue;
            };
            edges
                .entry((
                    module[..common].to_vec(),
                    from_child.clone(),
                    to_child.clone(),
                ))
                .or_insert_with(|| shown);
        }
    }
    (edges, offences)
}

/// The cycles among siblings: each module that reaches itself, with the edges of its level.
fn cycles(edges: &Edges) -> Vec<String> {
    let mut by_level: BTreeMap<&ModulePath, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for (level, from, to) in edges.keys() {
        by_level
            .entry(level)
            .or_default()
            .entry(from.as_str())
            .or_default()
            .insert(to.as_str());
    }
    let mut out = Vec::new();
    for (level, graph) in &by_level {
        let reach = |from: &str| -> BTreeSet<String> {
            let mut seen = BTreeSet::new();
            let mut todo = vec![from.to_owned()];
            while let Some(next) = todo.pop() {
                if !seen.contains(&next) {
                    todo.extend(
                        graph
                            .get(next.as_str())
                            .into_iter()
                            .flatten()
                            .map(|t| (*t).to_owned()),
                    );
                    seen.insert(next);
                }
            }
            seen
        };
        for (&start, targets) in graph {
            // The edges of `start` that lead back to it: the cycle's evidence.
            let evidence: Vec<&String> = targets
                .iter()
                .filter(|to| reach(to).contains(start))
                .map(|to| &edges[&((*level).clone(), start.to_owned(), (*to).to_owned())])
                .collect();
            if !evidence.is_empty() {
                out.push(format!(
                    "`{start}` (under `{}`) is in a cycle: {evidence:#?}",
                    level.join("::")
                ));
            }
        }
    }
    out
}

fn crate_roots() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![root.join("src")];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        roots.push(entry.unwrap().path().join("src"));
    }
    roots.sort();
    roots
}

#[test]
fn no_crate_has_a_module_cycle() {
    let mut problems = Vec::new();
    let mut edge_count = 0;
    for src in crate_roots() {
        let known = modules(&src);
        let (edges, offences) = edges(&known);
        edge_count += edges.len();
        problems.extend(offences);
        problems.extend(cycles(&edges));
    }
    assert!(edge_count > 100, "{edge_count} module edges read");
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The reader finds what it must: a braced group, `super::` from a nested file, a glob and a root item, and a
/// two-module cycle.
#[test]
fn the_module_graph_reader_sees_cycles_globs_and_root_items() {
    let module = vec!["attribute".to_owned(), "gaps".to_owned()];
    let found = paths(
        "use super::{fixes::Fix, super::decide::Step};\nuse crate::eval::*;\nlet x = crate::Layer::A;",
        &module,
    );
    let shown: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        shown,
        [
            "attribute::fixes::Fix",
            "decide::Step",
            "eval::*",
            "Layer::A"
        ],
        "{found:?}"
    );
    let dir = std::env::temp_dir().join(format!("module-graph-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod a;\nmod b;\npub use a::A;\n").unwrap();
    std::fs::write(dir.join("a.rs"), "use crate::b::B;\npub struct A;\n").unwrap();
    std::fs::write(
        dir.join("b.rs"),
        "use super::a::A;\npub struct B;\nmod inner {\n    use super::B;\n}\nfn f() -> crate::A {}\n",
    )
    .unwrap();
    let (edges, offences) = edges(&modules(&dir));
    let found = cycles(&edges);
    std::fs::remove_dir_all(&dir).unwrap();
    // `super::B` in `b::inner` is `b`'s own; `crate::A` goes through the root's re-export.
    assert_eq!(offences.len(), 1, "{offences:?}");
    assert!(
        offences[0].contains("`A` names an item through the crate root"),
        "{offences:?}"
    );
    assert_eq!(found.len(), 2, "{found:?}");
}
