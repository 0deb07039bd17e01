//! What makes a check's spec invalid: one `SpecError` per problem, naming the field.

/// A problem in a spec, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`spec.{field}`: {message}")]
pub struct SpecError {
    /// The field, e.g. `roleArn`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Every problem of a spec (one or more), shown `; `-separated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct SpecErrors(pub Vec<SpecError>);
