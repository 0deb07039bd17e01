//! The S3 diagnosis: a pure function from a snapshot of live AWS data to a verdict, every cause, and what to
//! change. No AWS SDK, no kube, no tokio, no I/O: this crate depends on the engine (`iam-policy`) only.
//!
//! The diagnosis is a pipeline of typed stages, each a function from one type to the next, none editing an
//! earlier stage's output:
//!
//! ```text
//! Snapshot ─validate─► (valid) ─assumptions─► filled Snapshot + gaps ─implied─► Implied (requests, policy sets)
//!   ─decide─► Vec<Decided> ─attribute─► Attributed (summaries, causes) ─rank─► ranked causes ─verdict─► Diagnosis
//!   ─fix─► Diagnosis with its whole-check fix (a `Denied` one: the causes' edits applied to a copy of the
//!          snapshot, re-diagnosed until `Allowed`)
//! ```

pub mod access_point;
pub mod access_point_ref;
pub mod acl;
mod assumptions;
mod attribute;
mod cause_id;
mod cause_text;
pub mod causes;
pub mod client;
mod decide;
mod documents;
pub mod facts;
pub mod fix;
mod fix_search;
pub mod formats;
pub mod headers;
mod implied;
pub mod kms;
mod problem;
mod rank;
pub mod remediation;
pub mod request;
mod s3;
pub mod snapshot;
pub mod source;
mod validate;
mod verdict;

use snapshot::Snapshot;

pub use formats::{CANNED_ACLS, STORAGE_CLASSES};
pub use problem::Problem;
pub use validate::{valid_bucket_name, validate_request};

pub use attribute::find_document;
pub use causes::{Category, Cause, CauseId, Severity, StatementPointer};
pub use verdict::{
    Assumption, Diagnosis, EvaluationSummary, LayeredStatement, RequestDecision, UnknownLayer,
    Verdict, DIAGNOSIS_VERSION,
};

/// Diagnoses a snapshot.
///
/// ```
/// use s3_diagnosis::{diagnose, snapshot::Snapshot, Verdict};
/// let snapshot: Snapshot = serde_json::from_value(serde_json::json!({
///     "version": 1,
///     "request": {"principalArn": "arn:aws:iam::111122223333:role/uploader", "bucket": "doc-example-bucket"},
///     "principal": {"arn": "arn:aws:iam::111122223333:role/uploader", "accountId": "111122223333", "kind": "role",
///         "policies": [{"id": "p", "name": "p", "document": {"Version": "2012-10-17",
///             "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}]}}]},
///     "bucket": {"name": "doc-example-bucket", "accountId": "111122223333", "region": "us-east-1"}
/// })).unwrap();
/// assert_eq!(diagnose(&snapshot).verdict, Verdict::Allowed);
/// ```
pub fn diagnose(snapshot: &Snapshot) -> Diagnosis {
    diagnose_with_fix(snapshot).0
}

/// Diagnoses a snapshot and, when it is `Denied`, searches the whole-check fix: returns the diagnosis (with
/// its `fix`) and the snapshot with the fix applied (what `--fixed-snapshot-out` writes).
pub fn diagnose_with_fix(snapshot: &Snapshot) -> (Diagnosis, Option<Snapshot>) {
    let mut d = diagnose_once(snapshot);
    if d.verdict != Verdict::Denied {
        return (d, None);
    }
    // 8. One fix for the whole check, verified by diagnosing the snapshot with it applied.
    let (fix, fixed) = fix_search::search(snapshot, &d, diagnose_once);
    d.fix = Some(fix);
    (d, Some(fixed))
}

/// Stages 1 to 7: the diagnosis without the fix.
fn diagnose_once(snapshot: &Snapshot) -> Diagnosis {
    // 0. Through an access point, the bucket is the one it names when the check names none.
    let snapshot = &*access_point::with_bucket(snapshot);
    // 1. Validate: a malformed check is `Invalid`, with every problem.
    let problems = validate::validate(snapshot);
    if !problems.is_empty() {
        return verdict::invalid(problems);
    }
    // The object's facts count only for the version the check reads.
    let snapshot = &*snapshot.with_object_of_request();
    // A bucket of a kind not evaluated yet: said, never evaluated as a general purpose bucket.
    if let Some(what) = snapshot.request.not_evaluated() {
        return verdict::not_evaluated(snapshot::SnapshotLayer::Request, &what);
    }
    // An access point that was not read: neither it nor the bucket behind it is known.
    if let Some(why) = access_point::unread(snapshot) {
        return verdict::not_evaluated(snapshot::SnapshotLayer::AccessPoint, &why);
    }
    // No credentials: nothing was read, and one reason says why (not one per layer).
    if let Some(why) = &snapshot.no_credentials {
        return verdict::no_credentials(why);
    }
    // A principal IAM does not have at the check's ARN: the check names nothing that can be evaluated.
    if snapshot.principal_not_found.is_some() {
        return verdict::principal_not_found(snapshot);
    }
    // 2. Fill what was not seen with the most permissive data it could hold.
    let gaps = assumptions::gaps(snapshot);
    let filled = assumptions::fill(snapshot, &gaps);
    // 3. The IAM requests the upload implies, and the policies that decide them.
    let implied = match implied::build(filled.as_ref()) {
        Ok(implied) => implied,
        Err(problem) => {
            return verdict::invalid(vec![Problem::new("principalArn", problem.to_string())])
        }
    };
    // 4. The engine decides each.
    let decided = decide::decide(&implied);
    // 5. Causes, with their remediations.
    let attributed = attribute::attribute_check(&implied, &decided);
    // 6. In the order to fix them.
    let causes = rank::rank(attributed.causes);
    // 7. The verdict rules.
    verdict::assemble(
        snapshot,
        &gaps,
        verdict::Findings {
            evaluations: attributed.evaluations,
            causes,
            relevant: implied.relevant_layers(),
            policy_errors: implied.policy_errors,
        },
    )
}
