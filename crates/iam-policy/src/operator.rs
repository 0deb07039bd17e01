//! Condition operators as policies write them: their names (`OpKind`, with `ForAllValues:`/`ForAnyValue:`
//! and `IfExists` in `Operator`), the family each belongs to (how its values compare), and the CIDR blocks of
//! the IP operators. Parsing operands and evaluating clauses are `condition`'s.

use std::net::IpAddr;

/// The operator families and their members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[expect(
    missing_docs,
    reason = "the variants are AWS's operator names, documented by AWS"
)]
#[derive(strum::IntoStaticStr)]
pub enum OpKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// Every operator, for parsing and for tests that must cover them all.
pub const ALL_OPERATORS: [OpKind; 27] = [
    OpKind::StringEquals,
    OpKind::StringNotEquals,
    OpKind::StringEqualsIgnoreCase,
    OpKind::StringNotEqualsIgnoreCase,
    OpKind::StringLike,
    OpKind::StringNotLike,
    OpKind::NumericEquals,
    OpKind::NumericNotEquals,
    OpKind::NumericLessThan,
    OpKind::NumericLessThanEquals,
    OpKind::NumericGreaterThan,
    OpKind::NumericGreaterThanEquals,
    OpKind::DateEquals,
    OpKind::DateNotEquals,
    OpKind::DateLessThan,
    OpKind::DateLessThanEquals,
    OpKind::DateGreaterThan,
    OpKind::DateGreaterThanEquals,
    OpKind::Bool,
    OpKind::BinaryEquals,
    OpKind::IpAddress,
    OpKind::NotIpAddress,
    OpKind::ArnEquals,
    OpKind::ArnLike,
    OpKind::ArnNotEquals,
    OpKind::ArnNotLike,
    OpKind::Null,
];

/// How values of an operator are parsed and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Exact, case-sensitive.
    StringExact,
    /// Exact after lowercasing.
    StringFolded,
    /// Wildcards, case-sensitive.
    StringLike,
    /// Numbers.
    Numeric(Compare),
    /// Dates.
    Date(Compare),
    /// `true` / `false`.
    Bool,
    /// Base64 bytes.
    Binary,
    /// CIDR blocks.
    Ip,
    /// ARNs, segment by segment, with wildcards.
    Arn,
    /// Presence of the key.
    Null,
}

/// A numeric or date comparison: request value ⋄ policy value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// `==`
    Equal,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
}

impl Compare {
    pub(crate) fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Self::Equal => ordering == Equal,
            Self::Less => ordering == Less,
            Self::LessOrEqual => ordering != Greater,
            Self::Greater => ordering == Greater,
            Self::GreaterOrEqual => ordering != Less,
        }
    }
}

impl OpKind {
    /// AWS's name for the operator.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The operator's family (which also fixes the comparison for numbers and dates).
    pub fn family(self) -> Family {
        match self {
            Self::StringEquals | Self::StringNotEquals => Family::StringExact,
            Self::StringEqualsIgnoreCase | Self::StringNotEqualsIgnoreCase => Family::StringFolded,
            Self::StringLike | Self::StringNotLike => Family::StringLike,
            Self::NumericEquals | Self::NumericNotEquals => Family::Numeric(Compare::Equal),
            Self::NumericLessThan => Family::Numeric(Compare::Less),
            Self::NumericLessThanEquals => Family::Numeric(Compare::LessOrEqual),
            Self::NumericGreaterThan => Family::Numeric(Compare::Greater),
            Self::NumericGreaterThanEquals => Family::Numeric(Compare::GreaterOrEqual),
            Self::DateEquals | Self::DateNotEquals => Family::Date(Compare::Equal),
            Self::DateLessThan => Family::Date(Compare::Less),
            Self::DateLessThanEquals => Family::Date(Compare::LessOrEqual),
            Self::DateGreaterThan => Family::Date(Compare::Greater),
            Self::DateGreaterThanEquals => Family::Date(Compare::GreaterOrEqual),
            Self::Bool => Family::Bool,
            Self::BinaryEquals => Family::Binary,
            Self::IpAddress | Self::NotIpAddress => Family::Ip,
            Self::ArnEquals | Self::ArnLike | Self::ArnNotEquals | Self::ArnNotLike => Family::Arn,
            Self::Null => Family::Null,
        }
    }

    /// Negated operators are true when no value matches, and true when the key is absent.
    pub fn negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals
                | Self::StringNotEqualsIgnoreCase
                | Self::StringNotLike
                | Self::NumericNotEquals
                | Self::DateNotEquals
                | Self::NotIpAddress
                | Self::ArnNotEquals
                | Self::ArnNotLike
        )
    }

    /// Whether values of this operator may hold policy variables.
    pub fn takes_variables(self) -> bool {
        matches!(
            self.family(),
            Family::StringExact | Family::StringFolded | Family::StringLike | Family::Arn
        )
    }
}

/// `ForAllValues:` or `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// Every request value must satisfy the operator; true for an empty or absent set.
    ForAllValues,
    /// At least one request value must satisfy the operator; false for an empty or absent set.
    ForAnyValue,
}

/// A full operator: qualifier, kind and `IfExists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The base operator.
    pub kind: OpKind,
    /// `...IfExists`: an absent key makes the clause true.
    pub if_exists: bool,
    /// `ForAllValues:` / `ForAnyValue:`.
    pub qualifier: Option<SetQualifier>,
    /// As written in the policy.
    pub written: String,
}

impl Operator {
    /// Parses an operator name as written in a `Condition` block. Names are case-sensitive, as in AWS.
    pub fn parse(written: &str) -> Result<Self, String> {
        let (qualifier, rest) = if let Some(rest) = written.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = written.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, written)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let kind = ALL_OPERATORS
            .iter()
            .copied()
            .find(|k| k.name() == base)
            .ok_or_else(|| format!("unknown condition operator `{written}`"))?;
        if kind == OpKind::Null && (if_exists || qualifier.is_some()) {
            return Err(format!(
                "condition operator `{written}` is not valid: `Null` takes neither `IfExists` nor a set qualifier"
            ));
        }
        Ok(Self {
            kind,
            if_exists,
            qualifier,
            written: written.to_owned(),
        })
    }
}

/// An IPv4 or IPv6 CIDR block (a bare address is a /32 or /128), as `ipnet` reads and matches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(ipnet::IpNet);

impl Cidr {
    /// Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.contains('/') {
            text.parse::<ipnet::IpNet>().ok().map(Self)
        } else {
            text.parse::<IpAddr>().ok().map(|addr| Self(addr.into()))
        }
    }

    /// Whether `ip` lies in the block. IPv4 never lies in an IPv6 block and the other way round.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
