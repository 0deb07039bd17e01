//! Why a reconcile failed: Kubernetes API failures only (AWS failures are a verdict, `Unknown`).

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The object has no namespace.
    #[error("object `{0}` has no namespace")]
    NoNamespace(String),
    /// The caches of scopes and namespaces did not fill in time: nothing can be decided yet.
    #[error("the scopes and namespaces are not known yet")]
    ScopesNotReady,
}

impl Error {
    /// A short label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Kube(_) => "kube",
            Self::NoNamespace(_) => "no_namespace",
            Self::ScopesNotReady => "scopes_not_ready",
        }
    }
}
