//! What a change event makes stale in the collector's caches: the reads it touches, by the key they were
//! cached under (`CREDENTIALS/ACCOUNT/BUCKET...`, `CREDENTIALS/PRINCIPAL-ARN`, ...) or by the value read (the
//! principals a managed policy is attached to, the access point behind an alias). The credentials part of a
//! key may hold `/` (a reader role's path): keys are matched from their end, or by a segment that cannot be
//! confused with it, and a spurious match only costs one read.

use super::events::Change;
use super::Collector;
use iam_policy::PrincipalArn;

/// Whether a cache key names `account` and `bucket` as consecutive segments (`.../ACCOUNT/BUCKET` at its end
/// or followed by `/`).
fn names_bucket(key: &str, account: &str, bucket: &str) -> bool {
    let segment = format!("/{account}/{bucket}");
    key.ends_with(&segment) || key.contains(&format!("{segment}/"))
}

/// The principal ARN a principals-cache key ends with.
fn principal_of(key: &str) -> Option<PrincipalArn> {
    key.rfind("arn:")
        .and_then(|at| key.get(at..))
        .and_then(|arn| PrincipalArn::parse(arn).ok())
}

impl Collector {
    /// Drops every cached read `change` makes stale; returns how many.
    pub fn invalidate(&self, change: &Change) -> usize {
        // An account's IAM read at once stays: what the change touched is marked in it, and served one by
        // one (fresh) until the view's own time to live ends; the account is not read again for it.
        match change {
            Change::Principal {
                account,
                kind,
                name,
            } => self.mark_views(account, |view| view.mark_principal(*kind, Some(name))),
            Change::Group { account } => self.mark_views(account, |view| {
                view.mark_principal(iam_policy::PrincipalKind::User, None);
            }),
            Change::ManagedPolicy { arn } => {
                let account = arn.split(':').nth(4).unwrap_or_default();
                self.mark_views(account, |view| view.mark_policy(arn));
            }
            _ => {}
        }
        self.invalidate_reads(change)
    }

    /// Applies `mark` to the account views of `account` (every account's for `aws`, AWS managed policies).
    fn mark_views(&self, account: &str, mark: impl Fn(&super::account::AccountView)) {
        let end = format!("/{account}");
        self.accounts.inspect(|key, value| {
            if account == "aws" || key.ends_with(&end) {
                if let Some(Ok(view)) = value {
                    mark(view);
                }
            }
        });
    }

    /// The reads other than the account views.
    fn invalidate_reads(&self, change: &Change) -> usize {
        match change {
            Change::Principal {
                account,
                kind,
                name,
            } => self.principals.invalidate(|key, _| {
                principal_of(key).is_some_and(|p| {
                    p.account() == account
                        && p.kind() == *kind
                        && p.name().eq_ignore_ascii_case(name)
                })
            }),
            Change::Group { account } => self.principals.invalidate(|key, _| {
                principal_of(key).is_some_and(|p| {
                    p.account() == account && p.kind() == iam_policy::PrincipalKind::User
                })
            }),
            Change::ManagedPolicy { arn } => self.principals.invalidate(|_, value| {
                value.is_some_and(|read| {
                    read.as_ref().is_ok_and(|(data, _)| {
                        data.policies
                            .iter()
                            .chain(&data.permissions_boundary)
                            .any(|p| p.id == *arn)
                    })
                })
            }),
            Change::Bucket { account, name } => {
                let stale = |key: &str| names_bucket(key, account, name);
                self.regions.invalidate(|k, _| stale(k))
                    + self.buckets.invalidate(|k, _| stale(k))
                    + self.bucket_tags.invalidate(|k, _| stale(k))
                    + self.bucket_acls.invalidate(|k, _| stale(k))
                    + self.objects.invalidate(|k, _| stale(k))
            }
            Change::AccountPublicAccessBlock { account } => {
                let segment = format!("/{account}/");
                self.buckets.invalidate(|key, _| key.contains(&segment))
            }
            Change::Key { account, id } => {
                // Only the named account's keys: the same alias or id in another account is another key.
                let in_account = |key: &str| {
                    key.contains(&format!("/{account}/")) || key.contains(&format!(":{account}:"))
                };
                let stale = |key: &str| {
                    in_account(key)
                        && (key.ends_with(&format!("/{id}"))
                            || key.ends_with(&format!(":key/{id}")))
                };
                self.keys.invalidate(|key, value| {
                    stale(key)
                        || value.is_some_and(|read| {
                            read.key.as_ref().is_some_and(|k| {
                                k.account_id == *account
                                    && (k.arn.ends_with(&format!("/{id}"))
                                        || k.aliases.iter().any(|a| a == id))
                            })
                        })
                }) + self.key_tags.invalidate(|key, _| stale(key))
            }
            Change::Organization { .. } => self.orgs.invalidate(|_, _| true),
            // By id, or found through its VPC: whatever answer holds it.
            Change::VpcEndpoint { id } => self.endpoints.invalidate(|key, value| {
                key.contains(id.as_str())
                    || value.is_some_and(|read| {
                        read.as_ref()
                            .is_ok_and(|endpoints| endpoints.iter().any(|e| e.id == *id))
                    })
            }),
            Change::AccessPoint { account, name } => self.access_points.invalidate(|key, value| {
                let by_arn = key.contains(&format!("/{account}/"))
                    && key.ends_with(&format!("accesspoint/{name}"));
                let by_value = value.is_some_and(|read| {
                    read.as_ref()
                        .is_ok_and(|(ap, _)| ap.account_id == *account && ap.name == *name)
                });
                by_arn || by_value
            }),
        }
    }
}
