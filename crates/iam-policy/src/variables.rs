//! Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, `${*}`, `${?}`, `${$}`):
//! parsed into a template once, resolved against the request context at evaluation time. Only policies of
//! version 2012-10-17 have variables.

use super::context::Context;
use super::glob::Piece;

/// A text with policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Text as written; `*` and `?` in it are wildcards where the operator has them.
    Text(String),
    /// `${key}` or `${key, 'default'}`.
    Variable {
        key: String,
        key_lower: String,
        default: Option<String>,
    },
    /// `${*}`, `${?}` or `${$}`: the character itself, never a wildcard.
    Literal(char),
}

/// A template resolved against a request: owned pieces, borrowed as `glob::Piece`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pieces: Vec<(String, bool)>,
}

impl Resolved {
    /// The pieces, for compiling a glob or an ARN pattern.
    pub fn pieces(&self) -> Vec<Piece<'_>> {
        self.pieces
            .iter()
            .map(|(text, wild)| {
                if *wild {
                    Piece::Wild(text)
                } else {
                    Piece::Literal(text)
                }
            })
            .collect()
    }

    /// The resolved text with every character literal.
    pub fn text(&self) -> String {
        self.pieces.iter().map(|(t, _)| t.as_str()).collect()
    }
}

impl Template {
    /// Parses `text`; `Ok(None)` when it has no variable (the caller then keeps the text as static).
    /// `Err` for a `${` that is never closed: AWS rejects such a policy, and reading it as literal text would
    /// make a `Deny` on it match nothing.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        if !text.contains("${") {
            return Ok(None);
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let (before, from) = rest.split_at(start);
            let Some(end) = from.find('}') else {
                return Err(format!(
                    "`{text}` has a policy variable `${{` that is never closed with `}}`"
                ));
            };
            let inner = from.get(2..end).unwrap_or("").trim();
            if !before.is_empty() {
                parts.push(Part::Text(before.to_owned()));
            }
            parts.push(parse_variable(inner));
            rest = from.get(end + 1..).unwrap_or("");
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        let has_variable = parts.iter().any(|p| !matches!(p, Part::Text(_)));
        Ok(has_variable.then_some(Self { parts }))
    }

    /// The context keys this template reads.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable { key, .. } => Some(key.as_str()),
            _ => None,
        })
    }

    /// Substitutes every variable. `Err(key)` names the first variable that has no single value in the
    /// context and no default: AWS then treats the value as matching nothing.
    pub fn resolve(&self, context: &Context) -> Result<Resolved, String> {
        let mut pieces = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            match part {
                Part::Text(text) => pieces.push((text.clone(), true)),
                Part::Literal(c) => pieces.push((c.to_string(), false)),
                Part::Variable {
                    key,
                    key_lower,
                    default,
                } => match (context.single(key_lower), default) {
                    (Some(value), _) => pieces.push((value.to_owned(), false)),
                    (None, Some(default)) => pieces.push((default.clone(), false)),
                    (None, None) => return Err(key.clone()),
                },
            }
        }
        Ok(Resolved { pieces })
    }
}

fn parse_variable(inner: &str) -> Part {
    match inner {
        "*" => return Part::Literal('*'),
        "?" => return Part::Literal('?'),
        "$" => return Part::Literal('$'),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let d = default.trim();
            let unquoted = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(d);
            (key.trim(), Some(unquoted.to_owned()))
        }
        None => (inner, None),
    };
    Part::Variable {
        key: key.to_owned(),
        key_lower: key.to_ascii_lowercase(),
        default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ContextValue;

    #[test]
    fn resolves_variables_defaults_and_literals() {
        let mut ctx = Context::default();
        ctx.insert("aws:username", ContextValue::One("bob".into()));
        let t = Template::parse("home/${aws:username}/${*}/${aws:PrincipalTag/team, 'all'}")
            .unwrap()
            .unwrap();
        let r = t.resolve(&ctx).unwrap();
        assert_eq!(r.text(), "home/bob/*/all");
        assert_eq!(r.pieces()[3], Piece::Literal("*"));
        assert!(Template::parse("no variables").unwrap().is_none());
        assert!(Template::parse("home/${aws:username").is_err());
        let missing = Template::parse("${aws:PrincipalTag/team}")
            .unwrap()
            .unwrap();
        assert_eq!(missing.resolve(&ctx), Err("aws:PrincipalTag/team".into()));
    }
}
