//! `check -f CHECK.yaml` (collect from live AWS, diagnose, print) and `snapshot -f CHECK.yaml` (collect only,
//! print the snapshot JSON). The manifest is the same `BucketAccessCheck` that `kubectl apply` takes.

use super::diagnose::{exit_code, print, write_fixed, Format};
use super::exit;
use crate::aws::{Collector, CollectorOptions};
use crate::spec::load_manifest;
use s3_diagnosis::diagnose_with_fix;
use s3_diagnosis::snapshot::Snapshot;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Collects a snapshot for the manifest, showing progress on stderr while it takes long.
fn collect(manifest_path: &Path, err: &mut impl Write) -> Result<Snapshot, u8> {
    let manifest = load_manifest(manifest_path).map_err(|e| {
        let _ = writeln!(err, "error: {e}");
        exit::INVALID_INPUT
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            let _ = writeln!(err, "error: cannot start the async runtime: {e}");
            exit::INVALID_INPUT
        })?;
    let name = manifest
        .metadata
        .name
        .clone()
        .unwrap_or_else(|| "check".to_owned());
    let started = Instant::now();
    let snapshot = runtime.block_on(async {
        let collector = Collector::from_env(CollectorOptions::default()).await;
        let metrics = collector.metrics();
        let spec = manifest.spec.clone();
        let access = crate::access::ReadAccess::unrestricted(&spec.read_role_arns);
    let work = collector.collect(&spec, &access);
        tokio::pin!(work);
        let mut ticker = tokio::time::interval(Duration::from_secs(3));
        ticker.tick().await;
        loop {
            tokio::select! {
                snapshot = &mut work => break snapshot,
                _ = ticker.tick() => {
                    eprintln!("{name}: still reading AWS ({} calls, {:.0?})", metrics.total(), started.elapsed());
                }
            }
        }
    });
    if started.elapsed() > Duration::from_secs(3) {
        let _ = writeln!(err, "{name}: read in {:.1?}", started.elapsed());
    }
    Ok(snapshot)
}

/// `snapshot -f CHECK.yaml`.
pub fn snapshot(manifest: &Path, out: &mut impl Write, err: &mut impl Write) -> u8 {
    match collect(manifest, err) {
        Ok(snapshot) => match serde_json::to_string_pretty(&snapshot) {
            Ok(text) if writeln!(out, "{text}").is_ok() => exit::OK,
            _ => exit::INVALID_INPUT,
        },
        Err(code) => code,
    }
}

/// `check -f CHECK.yaml [-o text|json] [--snapshot-out FILE] [--fixed-snapshot-out FILE]`.
pub fn check(
    manifest: &Path,
    format: Format,
    color: bool,
    snapshot_out: Option<&Path>,
    fixed_snapshot_out: Option<&Path>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> u8 {
    let snapshot = match collect(manifest, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(path) = snapshot_out {
        let written = serde_json::to_string_pretty(&snapshot)
            .map_err(|e| e.to_string())
            .and_then(|t| std::fs::write(path, t).map_err(|e| e.to_string()));
        if let Err(e) = written {
            let _ = writeln!(
                err,
                "error: cannot write the snapshot to `{}`: {e}",
                path.display()
            );
            return exit::INVALID_INPUT;
        }
    }
    let (diagnosis, fixed) = diagnose_with_fix(&snapshot);
    if let Some(path) = fixed_snapshot_out {
        if let Err(message) = write_fixed(path, &snapshot, fixed.as_ref()) {
            let _ = writeln!(err, "error: {message}");
            return exit::INVALID_INPUT;
        }
    }
    if print(&diagnosis, format, color, out).is_err() {
        return exit::INVALID_INPUT;
    }
    exit_code(diagnosis.verdict)
}
