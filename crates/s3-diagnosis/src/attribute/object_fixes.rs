//! Remediations of a download whose object belongs to another account: only the object's ACL can grant it,
//! so the fix that is verified grants the caller's account `READ` on this object alone; copying the object
//! over as the bucket owner, or making the bucket owner own every object, are said as alternatives (the
//! latter reaches every object of the bucket, so it is never applied as the fix).

use super::super::remediation::{ConfigEdit, Edit, Remediation};
use super::Evaluated;

/// What to change for `GET_OBJECT_OWNED_BY_OTHER_ACCOUNT`.
pub(super) fn owned_by_other_account(e: &Evaluated<'_>) -> Vec<Remediation> {
    let s = e.snapshot;
    let (bucket, key) = (&s.request.bucket, s.request.key());
    let owner = super::super::acl::foreign_owner(s).unwrap_or("OWNER");
    let caller = s
        .principal
        .as_ref()
        .and_then(|p| p.account_canonical_id.clone());
    let mut fixes = Vec::new();
    if let Some(caller) = caller {
        let command = format!(
            "aws s3api put-object-acl --bucket {bucket} --key {key} --grant-full-control id={owner} --grant-read id={caller}"
        );
        fixes.push(
            Remediation::config(
                "the object's owner grants the caller's account READ on this object (run by the owner: the ACL is replaced, so its own full control is given again)",
                Some(command),
            )
            .with_edit(Some(Edit::Config(ConfigEdit::ObjectReadGrant(caller)))),
        );
    }
    fixes.push(Remediation::config(
        "or copy the object over as the bucket owner: the copy belongs to the bucket owner, and the bucket policy's grants reach it",
        Some(format!(
            "aws s3 cp s3://{bucket}/{key} s3://{bucket}/{key} --metadata-directive REPLACE"
        )),
    ));
    fixes.push(Remediation::config(
        "or, after moving the ACL grants the bucket relies on into its policy, set Object Ownership to `BucketOwnerEnforced`: the bucket owner then owns every object (this reaches every object of the bucket)",
        Some(format!("aws s3api put-bucket-ownership-controls --bucket {bucket} --ownership-controls 'Rules=[{{ObjectOwnership=BucketOwnerEnforced}}]'")),
    ));
    fixes
}
