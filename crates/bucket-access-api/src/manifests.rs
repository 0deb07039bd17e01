//! Reading `BucketAccessCheck` manifests as a pipeline hands them over: files, directories (their `*.yaml`,
//! `*.yml` and `*.json`, recursively on request) and standard input; several YAML documents per file and
//! `kind: List`; other kinds (a kustomization's Deployment) skipped and counted. Every document is read
//! strictly: an unknown field at any depth of the check is an error naming its path, with the closest known
//! field (`spec.upload.storageClas: unknown field, did you mean storageClass?`).

use crate::spec::{CheckSpec, SpecErrors, API_VERSION, KIND};
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Where a document starts: the file (`-` for standard input) and its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as given (or found in a directory), `<stdin>` for standard input.
    pub file: String,
    /// The first line of the document (1-based).
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One check found in the input: its manifest, or why it cannot be used.
#[derive(Debug, Clone)]
pub struct FoundCheck {
    /// Where it is.
    pub at: Location,
    /// `metadata.name` (or `check-N`), `metadata.namespace`.
    pub name: String,
    /// The namespace, if the manifest names one.
    pub namespace: Option<String>,
    /// The spec, or every problem with the document.
    pub spec: Result<CheckSpec, ManifestProblem>,
}

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Found {
    /// The checks, in input order.
    pub checks: Vec<FoundCheck>,
    /// Documents of other kinds, skipped.
    pub skipped: usize,
    /// Inputs that could not be read or parsed at all.
    pub unreadable: Vec<Unreadable>,
}

/// An input that could not be read or parsed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The file (or `<stdin>`, or a directory that could not be listed).
    pub file: String,
    /// What went wrong.
    pub message: String,
}

impl Unreadable {
    fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// Reads every input: a file, a directory (recursively with `recursive`), or `-` for `stdin`.
pub fn read_all(paths: &[PathBuf], recursive: bool, stdin: &mut dyn std::io::Read) -> Found {
    let mut found = Found::default();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            match stdin.read_to_string(&mut text) {
                Ok(_) => read_text("<stdin>", &text, &mut found),
                Err(e) => found
                    .unreadable
                    .push(Unreadable::new("<stdin>", format!("cannot read: {e}"))),
            }
        } else if path.is_dir() {
            let mut files = Vec::new();
            list(path, recursive, &mut files, &mut found.unreadable);
            files.sort();
            for file in files {
                read_file(&file, &mut found);
            }
        } else {
            read_file(path, &mut found);
        }
    }
    found
}

fn list(dir: &Path, recursive: bool, files: &mut Vec<PathBuf>, errors: &mut Vec<Unreadable>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(Unreadable::new(
                dir.display().to_string(),
                format!("cannot list: {e}"),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if recursive {
                list(&path, recursive, files, errors);
            }
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            files.push(path);
        }
    }
}

fn read_file(path: &Path, found: &mut Found) {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => read_text(&shown, &text, found),
        Err(e) => found
            .unreadable
            .push(Unreadable::new(shown, format!("cannot read: {e}"))),
    }
}

/// The first line of each YAML document of `text` (documents are separated by `---` lines).
fn document_lines(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut first = 1;
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            if i == 0 {
                first = 2;
            } else {
                starts.push(i + 2);
            }
        }
    }
    starts.insert(0, first);
    starts
}

/// Reads the documents of one input.
pub fn read_text(file: &str, text: &str, found: &mut Found) {
    let documents = match documents(file, text) {
        Ok(d) => d,
        Err(problem) => {
            found
                .unreadable
                .push(Unreadable::new(file, problem.to_string()));
            return;
        }
    };
    let lines = document_lines(text);
    for (i, document) in documents.into_iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        let at = Location {
            file: file.to_owned(),
            line,
        };
        read_document(at, document, found);
    }
}

/// Why an input holds no documents to read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentsError {
    /// Larger than a manifest is allowed to be.
    #[error("the manifest has {0} bytes; at most {MAX_MANIFEST_BYTES} are read")]
    TooLarge(usize),
    /// Nested deeper than a manifest is allowed to be.
    #[error("the manifest nests collections more than {MAX_MANIFEST_DEPTH} deep")]
    TooDeep,
    /// A `.json` file that is not strict JSON.
    #[error("not JSON: {0}")]
    Json(#[from] iam_policy::strict_json::StrictJsonError),
    /// Not YAML (the parser's message).
    #[error("not YAML: {0}")]
    Yaml(String),
}

/// The documents of one input: a `.json` file is one strict JSON document, anything else YAML (several
/// documents); refused before parsing when too large or too deeply nested.
pub fn documents(file: &str, text: &str) -> Result<Vec<Value>, DocumentsError> {
    check_size_and_depth(text)?;
    if file.ends_with(".json") {
        Ok(vec![iam_policy::strict_json::from_str(text)?])
    } else {
        serde_saphyr::from_multiple::<Value>(text).map_err(|e| DocumentsError::Yaml(e.to_string()))
    }
}

/// What is wrong with one `BucketAccessCheck` document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestProblem {
    /// Another `apiVersion` (or none).
    #[error("`apiVersion: {found}`; expected `{API_VERSION}`")]
    ApiVersion {
        /// What the document says (`(none)` without one).
        found: String,
    },
    /// A field the resource does not have, with the known field it most likely means.
    #[error("`{at}`: unknown field, did you mean `{closest}`?")]
    Misspelt {
        /// The field's path.
        at: String,
        /// The closest known field.
        closest: String,
    },
    /// A field the resource does not have, near no known one.
    #[error("`{at}`: unknown field (known: {})", known.join(", "))]
    UnknownField {
        /// The field's path.
        at: String,
        /// The fields known there.
        known: Vec<String>,
    },
    /// A value of the wrong shape (a string where a list belongs, ...).
    #[error("`{at}`: {message}")]
    Shape {
        /// The value's path.
        at: String,
        /// The parser's words.
        message: String,
    },
    /// The spec's values are not valid.
    #[error(transparent)]
    Spec(#[from] SpecErrors),
}

/// A `BucketAccessCheck` document as a valid manifest: the right `apiVersion`, no unknown field, a valid spec.
pub fn check_manifest(document: Value) -> Result<Manifest, ManifestProblem> {
    let api_version = document.get("apiVersion").and_then(Value::as_str);
    if api_version != Some(API_VERSION) {
        return Err(ManifestProblem::ApiVersion {
            found: api_version.unwrap_or("(none)").to_owned(),
        });
    }
    let manifest = strict_manifest(document)?;
    manifest.spec.clone().validated()?;
    Ok(manifest)
}

fn read_document(at: Location, document: Value, found: &mut Found) {
    if document.is_null() {
        return;
    }
    if document.get("kind").and_then(Value::as_str) == Some("List") {
        for item in document
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            read_document(at.clone(), item, found);
        }
        return;
    }
    let kind = document.get("kind").and_then(Value::as_str);
    if kind != Some(KIND) {
        found.skipped += 1;
        return;
    }
    let index = found.checks.len() + 1;
    let name = document
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map_or_else(|| format!("check-{index}"), str::to_owned);
    let namespace = document
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let spec = check_manifest(document).map(|m| m.spec);
    found.checks.push(FoundCheck {
        at,
        name,
        namespace,
        spec,
    });
}

/// The manifest, read strictly: an unknown field names its path and the closest known field.
pub fn strict_manifest(document: Value) -> Result<Manifest, ManifestProblem> {
    serde_path_to_error::deserialize::<_, Manifest>(document).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        match unknown_field(&message) {
            Some((field, expected)) => {
                let at = if path.ends_with(&field) {
                    path
                } else if path == "." || path.is_empty() {
                    field.clone()
                } else {
                    format!("{path}.{field}")
                };
                match closest(&field, &expected) {
                    Some(closest) => ManifestProblem::Misspelt { at, closest },
                    None => ManifestProblem::UnknownField {
                        at,
                        known: expected,
                    },
                }
            }
            None => ManifestProblem::Shape { at: path, message },
        }
    })
}

/// (`field`, the expected fields) of serde's "unknown field `x`, expected one of `a`, `b`" message.
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((field.to_owned(), expected))
}

/// The known field closest to a misspelt one, if one is close (at most a third of its letters differ).
fn closest(field: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| {
            (
                strsim::levenshtein(&field.to_lowercase(), &k.to_lowercase()),
                k,
            )
        })
        .filter(|(d, k)| *d * 3 <= k.len().max(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

/// A `BucketAccessCheck` manifest as a file holds it (for the CLI): unknown fields are refused (the metadata
/// may hold anything Kubernetes metadata holds; a `status` from `kubectl get -o yaml` is ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// Must be `bucketaccess.io/v1alpha1`.
    pub api_version: String,
    /// Must be `BucketAccessCheck`.
    pub kind: String,
    /// Name and namespace.
    #[serde(default)]
    pub metadata: Metadata,
    /// The spec.
    pub spec: CheckSpec,
    /// A status, as `kubectl get -o yaml` writes it: ignored.
    #[serde(default)]
    pub status: Option<Value>,
}

/// The metadata the CLI reads.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Metadata {
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The namespace.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Unreadable file.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Not YAML of the right shape.
    #[error("`{path}` is not a BucketAccessCheck manifest: {message}")]
    Shape {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A check, but not a valid one (an unknown field, a bad value).
    #[error("`{path}` has an invalid check: {problem}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, naming the field.
        problem: ManifestProblem,
    },
}

/// The largest manifest read (a check is a few hundred bytes).
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;
/// The deepest nesting of flow collections (`[`, `{`) a manifest may have: a check needs five.
pub const MAX_MANIFEST_DEPTH: usize = 64;

/// Refuses a manifest too large or too deeply nested before any YAML parser sees it: the YAML parser's
/// time grows with nesting (100,000 levels took 44 s).
fn check_size_and_depth(text: &str) -> Result<(), DocumentsError> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(DocumentsError::TooLarge(text.len()));
    }
    let (mut depth, mut quote) = (0usize, None);
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => {
                depth += 1;
                if depth > MAX_MANIFEST_DEPTH {
                    return Err(DocumentsError::TooDeep);
                }
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            (None, _) => {}
        }
    }
    Ok(())
}

/// Reads and validates a manifest file (YAML or JSON) that holds exactly one check.
pub fn load_manifest(path: &std::path::Path) -> Result<Manifest, ManifestError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: shown.clone(),
        source,
    })?;
    let shape = |message: String| ManifestError::Shape {
        path: shown.clone(),
        message,
    };
    let documents = documents(&shown, &text).map_err(|e| shape(e.to_string()))?;
    let [document] = documents.as_slice() else {
        return Err(shape(format!(
            "{} documents; this command reads one (`check -f` reads many)",
            documents.len()
        )));
    };
    let kind = document.get("kind").and_then(Value::as_str);
    if kind != Some(KIND) {
        return Err(shape(format!(
            "`kind: {}`; expected `{KIND}`",
            kind.unwrap_or("(none)")
        )));
    }
    let manifest = check_manifest(document.clone()).map_err(|problem| ManifestError::Invalid {
        path: shown,
        problem,
    })?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Found {
        let mut found = Found::default();
        read_text("checks.yaml", text, &mut found);
        found
    }

    #[test]
    fn several_documents_other_kinds_skipped_and_lines_kept() {
        let found = read(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\napiVersion: bucketaccess.io/v1alpha1\nkind: BucketAccessCheck\nmetadata: {name: up}\nspec: {roleArn: 'arn:aws:iam::111122223333:role/r', bucket: doc-example-bucket}\n",
        );
        assert_eq!(found.skipped, 1);
        assert_eq!(found.checks.len(), 1);
        let c = &found.checks[0];
        assert_eq!((c.name.as_str(), c.at.line), ("up", 5));
        assert!(c.spec.is_ok(), "{:?}", c.spec);
    }

    #[test]
    fn unknown_fields_at_every_depth_name_their_path_and_the_closest_field() {
        for (text, want) in [
            ("apiVersion: bucketaccess.io/v1alpha1\nkind: BucketAccessCheck\nspecc: {}\n", "`specc`: unknown field, did you mean `spec`?"),
            ("apiVersion: bucketaccess.io/v1alpha1\nkind: BucketAccessCheck\nspec: {roleArn: 'arn:aws:iam::111122223333:role/r', bukcet: b}\n", "`spec.bukcet`: unknown field, did you mean `bucket`?"),
            ("apiVersion: bucketaccess.io/v1alpha1\nkind: BucketAccessCheck\nspec: {roleArn: 'arn:aws:iam::111122223333:role/r', bucket: doc-example-bucket, upload: {storageClas: STANDARD_IA}}\n", "`spec.upload.storageClas`: unknown field, did you mean `storageClass`?"),
        ] {
            let found = read(text);
            let err = found.checks[0].spec.clone().unwrap_err();
            assert_eq!(err.to_string(), want);
            assert!(matches!(err, ManifestProblem::Misspelt { .. }), "{err:?}");
        }
    }

    #[test]
    fn an_unreadable_input_keeps_its_whole_file_name() {
        // A name with a `:` in it: the report's file column must be all of it, not what precedes the `:`.
        let mut found = Found::default();
        read_text("checks/team:a.yaml", "spec: [unclosed", &mut found);
        assert_eq!(found.unreadable.len(), 1, "{:?}", found.unreadable);
        assert_eq!(found.unreadable[0].file, "checks/team:a.yaml");
        assert!(found.unreadable[0]
            .to_string()
            .starts_with("checks/team:a.yaml: "));
    }
}
