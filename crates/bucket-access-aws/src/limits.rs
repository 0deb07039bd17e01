//! How many AWS calls may be in flight: a pool for the whole process, and within it a share per namespace, so
//! that one namespace that floods the operator with checks (or with requested re-evaluations) holds at most its
//! share of the pool and the other namespaces' calls still find room. A call waits for its namespace's share
//! first and only then for a place in the pool: a namespace waiting on its own share holds nothing of the
//! pool. Reads made for no namespace (the CLI) use the pool alone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

/// One namespace's share: its permits, and how many of its calls are in flight (and the most ever).
#[derive(Debug)]
struct Share {
    permits: Arc<Semaphore>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

/// The pool and the shares.
#[derive(Debug)]
pub struct CallLimits {
    pool: Semaphore,
    share: usize,
    shares: Mutex<HashMap<String, Arc<Share>>>,
}

/// A place for one call: given back when dropped.
pub struct Place<'a> {
    _pool: Option<SemaphorePermit<'a>>,
    share: Option<(Arc<Share>, OwnedSemaphorePermit)>,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        if let Some((share, _)) = &self.share {
            share.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl CallLimits {
    /// A pool of `pool` calls, of which one namespace may hold `share` (both at least 1; the share at most the
    /// pool).
    pub fn new(pool: usize, share: usize) -> Self {
        let pool = pool.max(1);
        Self {
            pool: Semaphore::new(pool),
            share: share.clamp(1, pool),
            shares: Mutex::new(HashMap::new()),
        }
    }

    fn share_of(&self, namespace: &str) -> Option<Arc<Share>> {
        let mut shares = self.shares.lock().ok()?;
        let share = shares.entry(namespace.to_owned()).or_insert_with(|| {
            Arc::new(Share {
                permits: Arc::new(Semaphore::new(self.share)),
                in_flight: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
            })
        });
        Some(Arc::clone(share))
    }

    /// Waits for a place for one call made for `namespace` (none: the pool alone). The semaphores are never
    /// closed; were one closed, the call would go on without that permit rather than fail.
    pub async fn place(&self, namespace: Option<&str>) -> Place<'_> {
        let mut share = None;
        if let Some(s) = namespace.and_then(|ns| self.share_of(ns)) {
            if let Ok(permit) = Arc::clone(&s.permits).acquire_owned().await {
                let now = s.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
                s.peak.fetch_max(now, Ordering::Relaxed);
                share = Some((s, permit));
            }
        }
        Place {
            _pool: self.pool.acquire().await.ok(),
            share,
        }
    }

    /// The most calls made for `namespace` that were ever in flight at once.
    pub fn peak(&self, namespace: &str) -> usize {
        self.shares
            .lock()
            .ok()
            .and_then(|s| s.get(namespace).map(|s| s.peak.load(Ordering::Relaxed)))
            .unwrap_or(0)
    }

    /// One namespace's share of the pool.
    pub fn share(&self) -> usize {
        self.share
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_flooding_namespace_holds_no_more_than_its_share() {
        let limits = Arc::new(CallLimits::new(4, 2));
        let mut flood = Vec::new();
        for _ in 0..20 {
            let limits = Arc::clone(&limits);
            flood.push(tokio::spawn(async move {
                let _place = limits.place(Some("flood")).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        // The quiet namespace finds a place at once, while 18 of the flood's calls still wait.
        let quiet =
            tokio::time::timeout(Duration::from_millis(10), limits.place(Some("quiet"))).await;
        assert!(quiet.is_ok(), "the quiet namespace waited behind the flood");
        drop(quiet);
        for f in flood {
            f.await.unwrap();
        }
        assert_eq!(limits.peak("flood"), 2);
        assert_eq!(limits.peak("quiet"), 1);
        assert_eq!(limits.peak("nobody"), 0);
    }
}
