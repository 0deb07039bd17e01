//! Wildcard matching as IAM does it: `*` matches any run of characters (also none), `?` exactly one character.
//!
//! Patterns are compiled once (at parse time for static policy text) and matched without allocating.

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A literal byte (UTF-8 encoded text is matched byte by byte).
    Byte(u8),
    /// `*`: any run of characters.
    AnyRun,
    /// `?`: exactly one character.
    AnyOne,
}

/// A piece of pattern text before compilation: either text whose `*` and `?` are wildcards, or text that is
/// literal throughout (a substituted policy variable, or `${*}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// `*` and `?` in this text are wildcards.
    Wild(&'a str),
    /// Every character of this text stands for itself.
    Literal(&'a str),
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    repr: Repr,
    case_insensitive: bool,
}

/// How a pattern is held: plain text (one allocation, matched byte by byte), or tokens when some of its
/// characters are literal although they look like wildcards (substituted variables, `${*}`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    /// `*`.
    Everything,
    /// No wildcard at all.
    Literal(Box<str>),
    /// `*` and `?` in the text are wildcards.
    Wild(Box<str>),
    /// Mixed literal and wildcard pieces.
    Tokens(Vec<Token>),
}

impl Glob {
    /// Compiles `pattern`, where `*` and `?` are wildcards. With `case_insensitive`, text is compared after
    /// lowercasing both sides.
    pub fn new(pattern: &str, case_insensitive: bool) -> Self {
        let text: Box<str> = if case_insensitive {
            pattern.to_lowercase().into()
        } else {
            pattern.into()
        };
        let repr = if &*text == "*" {
            Repr::Everything
        } else if text.bytes().any(|b| b == b'*' || b == b'?') {
            Repr::Wild(text)
        } else {
            Repr::Literal(text)
        };
        Self {
            repr,
            case_insensitive,
        }
    }

    /// Compiles a pattern made of pieces, some with wildcards and some literal.
    pub fn from_pieces(pieces: &[Piece<'_>], case_insensitive: bool) -> Self {
        let literal_wildcard = pieces
            .iter()
            .any(|p| matches!(p, Piece::Literal(t) if t.contains(['*', '?'])));
        if !literal_wildcard {
            let text: String = pieces
                .iter()
                .map(|p| match p {
                    Piece::Wild(t) | Piece::Literal(t) => *t,
                })
                .collect();
            return Self::new(&text, case_insensitive);
        }
        let capacity = pieces
            .iter()
            .map(|p| match p {
                Piece::Wild(t) | Piece::Literal(t) => t.len(),
            })
            .sum();
        let mut tokens = Vec::with_capacity(capacity);
        for piece in pieces {
            let (text, wild) = match piece {
                Piece::Wild(t) => (*t, true),
                Piece::Literal(t) => (*t, false),
            };
            let owned;
            let text = if case_insensitive {
                owned = text.to_lowercase();
                owned.as_str()
            } else {
                text
            };
            for byte in text.bytes() {
                match byte {
                    b'*' if wild => {
                        if tokens.last() != Some(&Token::AnyRun) {
                            tokens.push(Token::AnyRun);
                        }
                    }
                    b'?' if wild => tokens.push(Token::AnyOne),
                    other => tokens.push(Token::Byte(other)),
                }
            }
        }
        Self {
            repr: Repr::Tokens(tokens),
            case_insensitive,
        }
    }

    /// Whether `text` matches the whole pattern. Case-insensitive patterns lowercase `text` first (allocating
    /// only when `text` has an uppercase character); callers on a hot path pass text already lowercased.
    pub fn matches(&self, text: &str) -> bool {
        if self.repr == Repr::Everything {
            return true;
        }
        if self.case_insensitive && text.chars().any(char::is_uppercase) {
            let lowered = text.to_lowercase();
            return self.matches_bytes(lowered.as_bytes());
        }
        self.matches_bytes(text.as_bytes())
    }

    fn matches_bytes(&self, text: &[u8]) -> bool {
        match &self.repr {
            Repr::Everything => true,
            Repr::Literal(literal) => literal.as_bytes() == text,
            Repr::Wild(pattern) => wild_match_text(pattern.as_bytes(), text),
            Repr::Tokens(tokens) => wild_match(tokens, text),
        }
    }
}

/// Matches `text` against pattern text whose `*` and `?` are wildcards (used for ARN segments too).
pub fn wild_match_text(pattern: &[u8], text: &[u8]) -> bool {
    wild_match_pattern_text::<false>(pattern, text)
}

/// Like `wild_match_text`, with the pattern's ASCII letters lowercased as it is read (no allocation): for
/// matching written patterns against lowercase text.
pub fn wild_match_text_folded(pattern: &[u8], text: &[u8]) -> bool {
    wild_match_pattern_text::<true>(pattern, text)
}

fn wild_match_pattern_text<const FOLD: bool>(pattern: &[u8], text: &[u8]) -> bool {
    if pattern == b"*" {
        return true;
    }
    // Without `?`, a pattern is literal segments between stars: placing each at its leftmost occurrence is
    // exact, and `str::find` (two-way search) keeps the whole match linear in pattern + text, where the
    // general matcher below can take pattern × text steps on a hostile policy.
    // Short inputs (nearly all) keep the direct matcher: its worst case is small there, and it needs no UTF-8
    // check or splitting.
    if pattern.len().saturating_mul(text.len()) > LINEAR_ABOVE && !pattern.contains(&b'?') {
        if let (Ok(pattern), Ok(text)) = (std::str::from_utf8(pattern), std::str::from_utf8(text)) {
            return if FOLD && pattern.bytes().any(|b| b.is_ascii_uppercase()) {
                star_match(&pattern.to_ascii_lowercase(), text)
            } else {
                star_match(pattern, text)
            };
        }
    }
    let token = |b: u8| match b {
        b'*' => Token::AnyRun,
        b'?' => Token::AnyOne,
        other if FOLD => Token::Byte(other.to_ascii_lowercase()),
        other => Token::Byte(other),
    };
    wild_match_by(pattern.len(), |i| pattern.get(i).copied().map(token), text)
}

/// Above this many pattern × text bytes, a pattern without `?` is matched by `star_match`.
const LINEAR_ABOVE: usize = 64 * 1024;

/// Matches `text` against a pattern whose only wildcard is `*`, in time linear in both.
fn star_match(pattern: &str, text: &str) -> bool {
    let mut segments = pattern.split('*');
    let first = segments.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let mut segments = segments.peekable();
    if segments.peek().is_none() {
        // No star at all: the whole text.
        return rest.is_empty();
    }
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            // The last segment is anchored at the end, after everything placed before it.
            return rest.ends_with(segment);
        }
        match rest.find(segment) {
            Some(at) => rest = rest.get(at + segment.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    true
}

/// Length in bytes of the UTF-8 character that starts with `first`.
fn char_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xff => 4,
        // A continuation byte cannot start a character of valid UTF-8; step one byte.
        _ => 1,
    }
}

/// Greedy matching with backtracking to the last star: linear in practice, O(n·m) at worst.
fn wild_match(tokens: &[Token], text: &[u8]) -> bool {
    wild_match_by(tokens.len(), |i| tokens.get(i).cloned(), text)
}

/// The matcher over any token source: `token(i)` is the i-th token, `len` their number.
fn wild_match_by(len: usize, token: impl Fn(usize) -> Option<Token>, text: &[u8]) -> bool {
    let mut p = 0usize;
    let mut t = 0usize;
    // (token index after the last star, text index that star is currently extended to)
    let mut star: Option<(usize, usize)> = None;
    while let Some(&byte) = text.get(t) {
        match token(p) {
            Some(Token::Byte(b)) if b == byte => {
                p += 1;
                t += 1;
                continue;
            }
            Some(Token::AnyOne) => {
                p += 1;
                t = (t + char_len(byte)).min(text.len());
                continue;
            }
            Some(Token::AnyRun) => {
                star = Some((p + 1, t));
                p += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((after_star, extended)) => {
                let first = text.get(extended).copied().unwrap_or(0);
                let next = (extended + char_len(first)).min(text.len());
                star = Some((after_star, next));
                p = after_star;
                t = next;
            }
            None => return false,
        }
    }
    while token(p) == Some(Token::AnyRun) {
        p += 1;
    }
    p == len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_questions() {
        let cases = [
            ("s3:*", "s3:putobject", true),
            ("s3:put*", "s3:putobject", true),
            ("s3:get*", "s3:putobject", false),
            ("s3:put?bject", "s3:putobject", true),
            ("s3:put?bject", "s3:putbject", false),
            ("*object", "s3:putobject", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("", "", true),
            ("", "a", false),
            ("*", "", true),
            ("?", "é", true),
            ("a?c", "aéc", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                Glob::new(pattern, false).matches(text),
                expected,
                "{pattern} vs {text}"
            );
        }
    }

    #[test]
    fn folded_text_patterns_match_lowercase_text() {
        assert!(wild_match_text_folded(b"S3:Put*", b"s3:putobject"));
        assert!(wild_match_text_folded(b"*", b"anything"));
        assert!(!wild_match_text_folded(b"S3:Get*", b"s3:putobject"));
        assert!(!wild_match_text_folded(b"s3:put?", b"s3:putobject"));
    }

    #[test]
    fn case_insensitive_patterns_lowercase_both_sides() {
        assert!(Glob::new("S3:PutObject", true).matches("s3:putobject"));
        assert!(Glob::new("s3:put*", true).matches("S3:PUTOBJECT"));
        assert!(!Glob::new("S3:PutObject", false).matches("s3:putobject"));
    }

    #[test]
    fn literal_pieces_do_not_act_as_wildcards() {
        let g = Glob::from_pieces(
            &[Piece::Wild("home/"), Piece::Literal("*"), Piece::Wild("/*")],
            false,
        );
        assert!(g.matches("home/*/x"));
        assert!(!g.matches("home/bob/x"));
    }
}
