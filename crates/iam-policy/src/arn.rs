//! Amazon Resource Names: parsing, and segment-by-segment wildcard matching as IAM does for `Resource` and
//! the `Arn*` condition operators.

use super::arn_short::ShortPattern;
use super::glob::{Glob, Piece};

/// The six parts of an ARN, borrowed from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: &'a str,
    /// `s3`, `iam`, `sts`, `kms`, ...
    pub service: &'a str,
    /// Empty for global services and S3 bucket ARNs.
    pub region: &'a str,
    /// Twelve digits, or empty for S3 bucket ARNs.
    pub account: &'a str,
    /// Everything after the fifth colon: `role/path/name`, `bucket/key`, `key/uuid`.
    pub resource: &'a str,
}

/// Why a text is not an ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// The text does not start with `arn:`.
    #[error("`{0}` is not an ARN: it does not start with `arn:`")]
    NoPrefix(String),
    /// Fewer than six colon-separated parts.
    #[error("`{0}` is not an ARN: it needs six parts separated by `:` (arn:partition:service:region:account:resource)")]
    TooFewParts(String),
}

impl<'a> Arn<'a> {
    /// Splits `text` into its six parts.
    pub fn parse(text: &'a str) -> Result<Self, ArnError> {
        let mut parts = text.splitn(6, ':');
        let prefix = parts.next();
        if prefix != Some("arn") {
            return Err(ArnError::NoPrefix(text.to_owned()));
        }
        match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some(partition), Some(service), Some(region), Some(account), Some(resource)) => {
                Ok(Self {
                    partition,
                    service,
                    region,
                    account,
                    resource,
                })
            }
            _ => Err(ArnError::TooFewParts(text.to_owned())),
        }
    }
}

/// The AWS partitions, and the DNS suffix of their service endpoints.
pub const PARTITIONS: [(&str, &str); 8] = [
    ("aws", "amazonaws.com"),
    ("aws-cn", "amazonaws.com.cn"),
    ("aws-us-gov", "amazonaws.com"),
    ("aws-iso", "c2s.ic.gov"),
    ("aws-iso-b", "sc2s.sgov.gov"),
    ("aws-iso-e", "cloud.adc-e.uk"),
    ("aws-iso-f", "csp.hci.ic.gov"),
    ("aws-eusc", "amazonaws.eu"),
];

/// True when `text` is twelve ASCII digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// A compiled ARN pattern: `*`, a six-segment pattern, or (for text that is not ARN-shaped) a whole-text glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnPattern {
    /// `*`: every resource.
    Everything,
    /// Plain pattern text matched segment by segment; the last segment may span `:` and `/`.
    Text(Box<str>),
    /// Plain pattern text whose first five segments have no wildcard (`arn:aws:s3:::bucket/*`): the text up
    /// to the first wildcard of the resource part (`arn:aws:s3:::bucket/`, `prefix` bytes, at least through
    /// the fifth `:`) is compared as one literal prefix, then the rest is matched as a glob.
    Prefixed {
        /// The pattern text.
        text: Box<str>,
        /// Length of the literal prefix.
        prefix: usize,
    },
    /// One glob per ARN segment (patterns built from policy-variable pieces).
    Segments(Box<[Glob; 6]>),
    /// Not ARN-shaped (no `arn:` prefix): matched as a whole.
    Whole(Glob),
    /// Starts with `arn:`, lacks six segments, and a `*` ends one of them: that `*` expands past colons
    /// (`arn:aws:s3:*` is every S3 ARN), as IAM documents for the `Resource` element.
    Short(ShortPattern),
    /// Starts with `arn:`, lacks six segments, and no `*` ends one: no documented meaning. It matches
    /// nothing here; the parser reports it, and evaluation lets it neither grant (an `Allow`) nor be dropped
    /// (a `Deny` holding it is indeterminate).
    Undocumented,
}

impl ArnPattern {
    /// Compiles pattern text where `*` and `?` are wildcards.
    pub fn new(pattern: &str) -> Self {
        if pattern == "*" {
            return Self::Everything;
        }
        // Six segments: five colons. Where the fifth is, and whether a wildcard comes before it.
        let mut colons = 0;
        let mut wild_head = false;
        let mut prefix = None;
        for (at, byte) in pattern.bytes().enumerate() {
            match byte {
                b':' => {
                    colons += 1;
                    if colons == 5 {
                        prefix = Some(at + 1);
                        break;
                    }
                }
                b'*' | b'?' => wild_head = true,
                _ => {}
            }
        }
        if let Some(prefix) = prefix {
            if wild_head {
                Self::Text(pattern.into())
            } else {
                // The literal text goes on to the resource part's first wildcard (or the end).
                let literal = pattern
                    .get(prefix..)
                    .and_then(|resource| resource.bytes().position(|b| b == b'*' || b == b'?'))
                    .map_or(pattern.len(), |at| prefix + at);
                Self::Prefixed {
                    text: pattern.into(),
                    prefix: literal,
                }
            }
        } else if pattern.starts_with("arn:") {
            Self::short(&[Piece::Wild(pattern)])
        } else {
            Self::Whole(Glob::new(pattern, false))
        }
    }

    /// Compiles a pattern made of wildcard and literal pieces (after policy variables were substituted).
    pub fn from_pieces(pieces: &[Piece<'_>]) -> Self {
        if let [Piece::Wild("*")] = pieces {
            return Self::Everything;
        }
        // Split the pieces at the first five colons.
        let mut segments: Vec<Vec<Piece<'_>>> = vec![Vec::new()];
        for piece in pieces {
            let (text, wild) = match piece {
                Piece::Wild(t) => (*t, true),
                Piece::Literal(t) => (*t, false),
            };
            let mut rest = text;
            loop {
                if segments.len() >= 6 {
                    push_piece(&mut segments, rest, wild);
                    break;
                }
                match rest.find(':') {
                    Some(at) => {
                        let (head, tail) = rest.split_at(at);
                        push_piece(&mut segments, head, wild);
                        segments.push(Vec::new());
                        rest = tail.get(1..).unwrap_or("");
                    }
                    None => {
                        push_piece(&mut segments, rest, wild);
                        break;
                    }
                }
            }
        }
        let whole = || Glob::from_pieces(pieces, false);
        let arn_prefixed = matches!(pieces.first(), Some(Piece::Wild(t) | Piece::Literal(t)) if t.starts_with("arn:"));
        if segments.len() != 6 {
            return if arn_prefixed {
                Self::short(pieces)
            } else {
                Self::Whole(whole())
            };
        }
        let globs: Vec<Glob> = segments
            .iter()
            .map(|s| Glob::from_pieces(s, false))
            .collect();
        match <[Glob; 6]>::try_from(globs) {
            Ok(array) => Self::Segments(Box::new(array)),
            Err(_) => Self::Whole(whole()),
        }
    }

    /// Compiles the text of a `Resource` element: as `new`, except that a wildcard in the service segment,
    /// which the IAM User Guide's Resource element page does not allow, has no documented meaning there.
    pub fn resource(pattern: &str) -> Self {
        if wild_service(pattern) {
            return Self::Undocumented;
        }
        Self::new(pattern)
    }

    /// `resource` for a pattern made of pieces (after policy variables were substituted; their wildcards are
    /// literal).
    pub fn resource_from_pieces(pieces: &[Piece<'_>]) -> Self {
        let written: String = pieces
            .iter()
            .map(|p| match p {
                Piece::Wild(t) => (*t).to_owned(),
                Piece::Literal(t) => t.replace(['*', '?'], "_"),
            })
            .collect();
        if wild_service(&written) {
            return Self::Undocumented;
        }
        Self::from_pieces(pieces)
    }

    /// A pattern of fewer than six segments.
    fn short(pieces: &[Piece<'_>]) -> Self {
        ShortPattern::compile(pieces).map_or(Self::Undocumented, Self::Short)
    }

    /// Whether the pattern has fewer than six segments (documented or not).
    pub fn is_short(&self) -> bool {
        matches!(self, Self::Short(_) | Self::Undocumented)
    }

    /// Whether `text` matches. An ARN-shaped pattern only matches ARN-shaped text.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            Self::Everything => true,
            Self::Undocumented => false,
            Self::Short(short) => short.matches(text),
            Self::Whole(glob) => glob.matches(text),
            Self::Prefixed {
                text: pattern,
                prefix,
            } => match (
                pattern.as_bytes().split_at_checked(*prefix),
                text.as_bytes().split_at_checked(*prefix),
            ) {
                (Some((head, tail)), Some((text_head, text_tail))) => {
                    head == text_head && super::glob::wild_match_text(tail, text_tail)
                }
                _ => false,
            },
            Self::Text(pattern) => {
                let mut parts = text.splitn(6, ':');
                let mut segments = pattern.splitn(6, ':');
                let mut count = 0;
                for segment in segments.by_ref() {
                    count += 1;
                    match parts.next() {
                        Some(part)
                            if super::glob::wild_match_text(
                                segment.as_bytes(),
                                part.as_bytes(),
                            ) => {}
                        _ => return false,
                    }
                }
                count == 6
            }
            Self::Segments(globs) => {
                let mut parts = text.splitn(6, ':');
                globs
                    .iter()
                    .all(|glob| parts.next().is_some_and(|part| glob.matches(part)))
            }
        }
    }
}

/// Whether an ARN pattern has a wildcard in its service segment.
fn wild_service(pattern: &str) -> bool {
    pattern.starts_with("arn:")
        && pattern
            .split(':')
            .nth(2)
            .is_some_and(|s| s.contains(['*', '?']))
}

fn push_piece<'a>(segments: &mut [Vec<Piece<'a>>], text: &'a str, wild: bool) {
    if let Some(last) = segments.last_mut() {
        last.push(if wild {
            Piece::Wild(text)
        } else {
            Piece::Literal(text)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_six_parts() {
        let arn = Arn::parse("arn:aws:iam::111122223333:role/path/uploader").unwrap();
        assert_eq!(arn.service, "iam");
        assert_eq!(arn.account, "111122223333");
        assert_eq!(arn.resource, "role/path/uploader");
        let s3 = Arn::parse("arn:aws:s3:::bucket/a:b/c").unwrap();
        assert_eq!(s3.resource, "bucket/a:b/c");
        assert!(Arn::parse("arn:aws:s3").is_err());
        assert!(Arn::parse("bucket").is_err());
    }

    #[test]
    fn literal_prefix_fast_path_agrees_with_segment_matching() {
        let patterns = [
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket",
            "arn:aws:s3:::b?cket/a*",
            "arn:aws:kms:us-east-1:111122223333:key/*",
            "arn:aws:iam::111122223333:role/a:b",
            "arn:aws:s3:::",
            "arn:aws:s3:::bucket/a/*.txt",
            "arn:aws:s3:::bucket/a/b.tx?",
            "arn:aws:s3:::bucket/a/b.txt*",
            "arn:aws:s3:::bucket/a/b.txt/",
            "arn:aws:s3:::bucket/é?",
        ];
        let texts = [
            "arn:aws:s3:::bucket/a/b.txt",
            "arn:aws:s3:::bucket",
            "arn:aws:s3:::bucket/",
            "arn:aws:s3:::bucket2/x",
            "arn:aws:s3:::",
            "arn:aws:s3::",
            "arn:aws:kms:us-east-1:111122223333:key/abc",
            "arn:aws:kms:us-east-1:111122223333",
            "arn:aws:iam::111122223333:role/a:b",
            "arn:aws:s3:::bucket/é",
            "arn:aws:s3:::bucket/éé",
            "arn:aws:s3:::bucket/a/b.txt/",
            "",
        ];
        for p in patterns {
            assert!(
                matches!(ArnPattern::new(p), ArnPattern::Prefixed { .. }),
                "{p}"
            );
            for t in texts {
                assert_eq!(
                    ArnPattern::new(p).matches(t),
                    ArnPattern::Text(p.into()).matches(t),
                    "{p} vs {t}"
                );
            }
        }
        assert!(matches!(
            ArnPattern::new("arn:aws:s3:*::b/*"),
            ArnPattern::Text(_)
        ));
    }

    #[test]
    fn segment_matching() {
        assert!(ArnPattern::new("arn:aws:s3:::bucket/*").matches("arn:aws:s3:::bucket/a/b.txt"));
        assert!(!ArnPattern::new("arn:aws:s3:::bucket").matches("arn:aws:s3:::bucket/a"));
        assert!(ArnPattern::new("arn:aws:s3:::buck*").matches("arn:aws:s3:::bucket/a"));
        assert!(ArnPattern::new("arn:aws:kms:*:111122223333:key/*")
            .matches("arn:aws:kms:us-east-1:111122223333:key/abcd"));
        // A star in one segment does not reach into the next; a five-part ARN pattern matches nothing.
        assert!(!ArnPattern::new("arn:aws:kms:*:*:alias/*")
            .matches("arn:aws:kms:us-east-1:111122223333:key/abcd"));
        // Five segments: the `*` that ends the region segment expands past colons (IAM's Resource element).
        assert!(matches!(
            ArnPattern::new("arn:aws:kms:*:key/*"),
            ArnPattern::Short(_)
        ));
        assert!(ArnPattern::new("arn:aws:kms:*:key/*")
            .matches("arn:aws:kms:us-east-1:111122223333:key/abcd"));
        assert!(ArnPattern::new("arn:aws:s3:*").matches("arn:aws:s3:::bucket/k"));
        assert_eq!(
            ArnPattern::new("arn:aws:s3:bucket"),
            ArnPattern::Undocumented
        );
        // A wildcard in the service segment of a resource has no documented meaning, however many segments;
        // the ARN condition operators take it in any segment.
        for undocumented in ["arn:aws:s*:::b/*", "arn:aws:*:*:*:*", "arn:aws:s?:*"] {
            assert_eq!(
                ArnPattern::resource(undocumented),
                ArnPattern::Undocumented,
                "{undocumented}"
            );
        }
        assert!(ArnPattern::new("arn:aws:*:*:111122223333:role/ci-*")
            .matches("arn:aws:iam::111122223333:role/ci-runner"));
        let templated = [
            Piece::Wild("arn:aws:*:::"),
            Piece::Literal("b"),
            Piece::Wild("/*"),
        ];
        assert_eq!(
            ArnPattern::resource_from_pieces(&templated),
            ArnPattern::Undocumented
        );
        let literal_star = [
            Piece::Wild("arn:aws:s3:::"),
            Piece::Literal("*"),
            Piece::Wild("/k"),
        ];
        assert!(ArnPattern::resource_from_pieces(&literal_star).matches("arn:aws:s3:::*/k"));
        assert!(ArnPattern::new("*").matches("anything"));
        assert!(ArnPattern::new("arn:aws:s3:::bucket/a:b/*").matches("arn:aws:s3:::bucket/a:b/c"));
    }
}
