//! ARN patterns of fewer than six segments in a `Resource` element. IAM documents that a `*` which ends an
//! ARN segment may expand past the colon boundaries, so `arn:aws:s3:*` matches every S3 ARN and
//! `arn:aws:kms:*:key/*` every key (IAM User Guide, "IAM JSON policy elements: Resource", using wildcards in
//! resource ARNs). Any other `*` and every `?` stay inside one segment. A short pattern where no `*` ends a
//! segment has no documented meaning; `arn` says what evaluation does with it.

use super::glob::Piece;

/// One element of a short pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A literal character.
    Char(char),
    /// `?`: one character other than `:`.
    One,
    /// `*`: a run of characters; across colons when it ends a segment.
    Run {
        /// Ends a segment (followed by `:` or the end of the pattern).
        crosses: bool,
    },
}

/// A compiled short pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortPattern {
    tokens: Box<[Token]>,
}

impl ShortPattern {
    /// Compiles the pieces of a pattern (wildcards in `Wild` pieces only); `None` when no `*` ends a segment,
    /// so that the pattern has no documented meaning.
    pub fn compile(pieces: &[Piece<'_>]) -> Option<Self> {
        let mut tokens = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Wild(text) => tokens.extend(text.chars().map(|c| match c {
                    '*' => Token::Run { crosses: false },
                    '?' => Token::One,
                    c => Token::Char(c),
                })),
                Piece::Literal(text) => tokens.extend(text.chars().map(Token::Char)),
            }
        }
        // A `*` followed by `:` or the end of the pattern ends its segment.
        let ends_segment: Vec<bool> = (0..tokens.len())
            .map(|i| matches!(tokens.get(i + 1), None | Some(Token::Char(':'))))
            .collect();
        let mut any = false;
        for (token, ends) in tokens.iter_mut().zip(ends_segment) {
            if let Token::Run { crosses } = token {
                *crosses = ends;
                any |= ends;
            }
        }
        any.then(|| Self {
            tokens: tokens.into(),
        })
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        // reach[j]: the tokens so far can match exactly the first j characters.
        let mut reach = vec![false; chars.len() + 1];
        if let Some(start) = reach.first_mut() {
            *start = true;
        }
        for token in self.tokens.iter() {
            let mut next = vec![false; chars.len() + 1];
            match *token {
                Token::Char(want) => step_one(&reach, &mut next, &chars, |c| c == want),
                Token::One => step_one(&reach, &mut next, &chars, |c| c != ':'),
                Token::Run { crosses } => {
                    let mut on = false;
                    for (j, slot) in next.iter_mut().enumerate() {
                        let before = j.checked_sub(1).and_then(|i| chars.get(i));
                        if on && !crosses && before == Some(&':') {
                            on = false;
                        }
                        if reach.get(j) == Some(&true) {
                            on = true;
                        }
                        *slot = on;
                    }
                }
            }
            reach = next;
        }
        reach.last() == Some(&true)
    }
}

/// One token that consumes exactly one character satisfying `accepts`.
fn step_one(reach: &[bool], next: &mut [bool], chars: &[char], accepts: impl Fn(char) -> bool) {
    for (j, c) in chars.iter().enumerate() {
        if reach.get(j) == Some(&true) && accepts(*c) {
            if let Some(slot) = next.get_mut(j + 1) {
                *slot = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(text: &str) -> Option<ShortPattern> {
        ShortPattern::compile(&[Piece::Wild(text)])
    }

    #[test]
    fn a_star_that_ends_a_segment_expands_past_colons() {
        let s3 = short("arn:aws:s3:*").unwrap();
        assert!(s3.matches("arn:aws:s3:::bucket/key"));
        assert!(s3.matches("arn:aws:s3:us-east-1:111122223333:accesspoint/ap/object/k"));
        assert!(!s3.matches("arn:aws:kms:us-east-1:111122223333:key/abcd"));
        let kms = short("arn:aws:kms:*:key/*").unwrap();
        assert!(kms.matches("arn:aws:kms:us-east-1:111122223333:key/abcd"));
        assert!(!kms.matches("arn:aws:kms:us-east-1:111122223333:alias/abcd"));
        let everything = short("arn:*").unwrap();
        assert!(everything.matches("arn:aws-cn:s3:::b"));
        assert!(!everything.matches("ar:aws:s3:::b"));
    }

    #[test]
    fn other_wildcards_stay_in_their_segment() {
        // `s*3` does not end its segment: it cannot reach past the colon.
        let inner = short("arn:aws:s*3:*").unwrap();
        assert!(inner.matches("arn:aws:s3:::b"));
        assert!(!inner.matches("arn:aws:s:x3:::b"));
        // `?` is one character, never a colon.
        let one = short("arn:aws:s?:*").unwrap();
        assert!(one.matches("arn:aws:s3:::b"));
        assert!(!one.matches("arn:aws:s::::b"));
    }

    #[test]
    fn a_short_pattern_without_a_segment_final_star_has_no_documented_meaning() {
        assert!(short("arn:aws:s3:bucket").is_none());
        assert!(short("arn:aws:s*3:bucket").is_none());
        // A substituted variable's `*` is literal: it ends no segment.
        assert!(
            ShortPattern::compile(&[Piece::Wild("arn:aws:s3:"), Piece::Literal("*")]).is_none()
        );
    }
}
