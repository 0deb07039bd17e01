//! A scope's principal patterns: `arn:PARTITION:iam::ACCOUNT:RESOURCE`, with the partition and the account
//! written out (no wildcard there), matched against a check's parsed principal (`PrincipalArn`), never against
//! the text the tenant wrote. RESOURCE is matched segment by segment against `role/PATH/NAME`:
//!
//! - `*` matches any run of characters inside one segment, `?` one character; neither matches `/`;
//! - a segment `**` matches any number of whole segments (none included), except as the last segment, where it
//!   matches at least one (the name): `role/media/**` is every role under the path `/media/`, at any depth,
//!   and not the role named `media` at the path `/`; `**` alone is every role and user of the account;
//! - the last segment (the name) matches in any letter case, as IAM names are unique without regard to case;
//!   the path segments and `role`/`user` match exactly.

use iam_policy::arn::{is_account_id, Arn, ArnError, PARTITIONS};
use iam_policy::glob::Glob;
use iam_policy::PrincipalArn;

/// One segment of a pattern's resource part.
#[derive(Debug, Clone)]
enum Segment {
    /// `**`: any number of segments.
    Any,
    /// Text with `*`/`?`, matched inside one segment (case-sensitive, and case-insensitive for the name).
    Glob { exact: Glob, any_case: Glob },
}

/// Why a principal pattern is refused (lowercase, the pattern in backticks).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// Not an ARN.
    #[error(transparent)]
    Arn(#[from] ArnError),
    /// A partition left to a wildcard or not AWS's.
    #[error("`{0}`: the partition must be written out, one of {partitions}", partitions = PARTITIONS.map(|(p, _)| p).join(", "))]
    Partition(String),
    /// Not an IAM ARN.
    #[error("`{0}` is not an IAM pattern (`arn:PARTITION:iam::ACCOUNT:role/...`)")]
    NotIam(String),
    /// An account left to a wildcard.
    #[error("`{0}`: the account must be written out as 12 digits")]
    Account(String),
    /// Neither roles nor users.
    #[error(
        "`{0}`: the resource must start with `role/` or `user/`, or be `**` (every role and user)"
    )]
    Resource(String),
}

/// A compiled principal pattern.
#[derive(Debug, Clone)]
pub struct PrincipalPattern {
    partition: String,
    account: String,
    segments: Vec<Segment>,
}

impl PrincipalPattern {
    /// Compiles a pattern, or says what is wrong with it (lowercase, the pattern in backticks).
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        let arn = Arn::parse(pattern)?;
        if !PARTITIONS.iter().any(|(p, _)| *p == arn.partition) {
            return Err(PatternError::Partition(pattern.to_owned()));
        }
        if arn.service != "iam" || !arn.region.is_empty() {
            return Err(PatternError::NotIam(pattern.to_owned()));
        }
        if !is_account_id(arn.account) {
            return Err(PatternError::Account(pattern.to_owned()));
        }
        let first = arn.resource.split('/').next().unwrap_or_default();
        if !(arn.resource == "**" || first == "role" || first == "user") {
            return Err(PatternError::Resource(pattern.to_owned()));
        }
        let segments = arn
            .resource
            .split('/')
            .map(|s| {
                if s == "**" {
                    Segment::Any
                } else {
                    Segment::Glob {
                        exact: Glob::new(s, false),
                        any_case: Glob::new(s, true),
                    }
                }
            })
            .collect();
        Ok(Self {
            partition: arn.partition.to_owned(),
            account: arn.account.to_owned(),
            segments,
        })
    }

    /// Whether `principal` matches: the same partition and account, and its `role/PATH/NAME` segments match.
    pub fn matches(&self, principal: &PrincipalArn) -> bool {
        if principal.partition() != self.partition || principal.account() != self.account {
            return false;
        }
        let resource = principal.resource();
        let text: Vec<&str> = resource.split('/').collect();
        matches_segments(&self.segments, &text)
    }
}

/// Whether `segments` match all of `text` (its last segment is the name). Dynamic programming over (pattern
/// position, text position), so that several `**` cost no more than their product with the text's length.
fn matches_segments(segments: &[Segment], text: &[&str]) -> bool {
    let name_at = text.len().saturating_sub(1);
    // reach[j]: the first i pattern segments can match the first j text segments.
    let mut reach = vec![false; text.len() + 1];
    if let Some(start) = reach.first_mut() {
        *start = true;
    }
    let last = segments.len().saturating_sub(1);
    for (at, segment) in segments.iter().enumerate() {
        let mut next = vec![false; text.len() + 1];
        match segment {
            Segment::Any => {
                // Zero segments or more; as the last segment, at least the name.
                let at_least = usize::from(at == last);
                let mut seen = false;
                for (j, slot) in next.iter_mut().enumerate() {
                    let from = j.checked_sub(at_least);
                    seen = seen || from.and_then(|i| reach.get(i)).copied().unwrap_or(false);
                    *slot = seen;
                }
            }
            Segment::Glob { exact, any_case } => {
                for (j, word) in text.iter().enumerate() {
                    let glob = if j == name_at { any_case } else { exact };
                    if reach.get(j).copied().unwrap_or(false) && glob.matches(word) {
                        if let Some(slot) = next.get_mut(j + 1) {
                            *slot = true;
                        }
                    }
                }
            }
        }
        reach = next;
    }
    reach.last().copied().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, arn: &str) -> bool {
        PrincipalPattern::parse(pattern)
            .unwrap()
            .matches(&PrincipalArn::parse(arn).unwrap())
    }

    const A: &str = "arn:aws:iam::123456789012";

    #[test]
    fn a_wildcard_stays_inside_its_segment() {
        let p = format!("{A}:role/upload*");
        assert!(matches(&p, &format!("{A}:role/uploader")));
        assert!(
            matches(&p, &format!("{A}:role/Uploader")),
            "names in any case"
        );
        // The path trick: a `*` never reaches into another segment.
        assert!(!matches(&p, &format!("{A}:role/uploadX/kms-uploader")));
        let media = format!("{A}:role/media/*");
        assert!(matches(&media, &format!("{A}:role/media/x")));
        assert!(!matches(&media, &format!("{A}:role/media/finance/admin")));
        assert!(
            !matches(&media, &format!("{A}:role/Media/x")),
            "paths exactly"
        );
        assert!(!matches(&media, &format!("{A}:user/media/x")));
        assert!(!matches(
            &format!("{A}:role/upload?"),
            &format!("{A}:role/upload/x")
        ));
    }

    #[test]
    fn a_double_star_segment_spans_the_path() {
        let deep = format!("{A}:role/media/**");
        assert!(matches(&deep, &format!("{A}:role/media/x")));
        assert!(matches(&deep, &format!("{A}:role/media/a/b/x")));
        assert!(!matches(&deep, &format!("{A}:role/other/x")));
        // Every role under `/media/`: not the role named `media` at the path `/` (a trailing `**` is at
        // least the name).
        assert!(!matches(&deep, &format!("{A}:role/media")));
        assert!(!matches(&deep, &format!("{A}:role/Media")));
        let middle = format!("{A}:role/media/**/uploader");
        assert!(matches(&middle, &format!("{A}:role/media/uploader")));
        assert!(matches(&middle, &format!("{A}:role/media/a/uploader")));
        assert!(!matches(&middle, &format!("{A}:role/uploader")));
        let any_path = format!("{A}:role/**/uploader");
        assert!(matches(&any_path, &format!("{A}:role/uploader")));
        assert!(matches(&any_path, &format!("{A}:role/a/b/UPLOADER")));
        assert!(!matches(&any_path, &format!("{A}:role/a/uploader2")));
        let all = format!("{A}:**");
        assert!(matches(&all, &format!("{A}:role/x")));
        assert!(matches(&all, &format!("{A}:user/a/b/x")));
        assert!(!matches(&all, "arn:aws:iam::999999999999:role/x"));
        assert!(!matches(&all, "arn:aws-cn:iam::123456789012:role/x"));
    }

    #[test]
    fn the_partition_and_the_account_are_written_out() {
        for bad in [
            "arn:*:iam::123456789012:role/x",
            "arn:aws:iam::*:role/x",
            "arn:aws:iam::12345678901?:role/x",
            "arn:aws:sts::123456789012:assumed-role/x",
            "arn:aws:iam::123456789012:*",
            "arn:aws:iam::123456789012:group/x",
            "*",
        ] {
            assert!(PrincipalPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_schema_lists_every_partition() {
        let crd = include_str!("../../../../crds/bucketaccessscopes.bucketaccess.io.yaml");
        let partitions = format!("^arn:({}):iam::", PARTITIONS.map(|(p, _)| p).join("|"));
        assert!(crd.contains(&partitions), "{partitions}");
    }
}
