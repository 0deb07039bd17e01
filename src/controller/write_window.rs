//! How many writes to the Kubernetes API (status patches, Events) are in flight at once, sized by the API
//! server's answers: the window grows by one after each window's worth of prompt writes, up to a ceiling,
//! and halves when a write is refused as too many requests (`429`, after the client's own retries) or takes
//! longer than `SLOW` (the API server is queueing it: its priority and fairness, or the client's retries on
//! `429` with the server's `Retry-After`, show as time). Reconciles waiting on AWS never hold a place; many
//! reconciles share the API server's answers instead of a fixed number each waiting its turn.
//!
//! Hand-written: tokio's semaphore is fixed in size and tower's concurrency limit too; what is ours is the
//! additive-increase, multiplicative-decrease rule on top of the semaphore.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// A write slower than this is a sign of congestion.
pub const SLOW: Duration = Duration::from_secs(2);

/// The window a new operator starts with.
pub const INITIAL: usize = 8;

#[derive(Debug)]
struct Window {
    /// Writes allowed in flight.
    size: usize,
    /// Prompt writes since the window last changed.
    prompt: usize,
    /// Places still to take away after a decrease (each returned one is kept until none is owed).
    owed: usize,
}

/// The window of writes in flight.
#[derive(Debug)]
pub struct WriteWindow {
    places: Semaphore,
    window: Mutex<Window>,
    ceiling: usize,
}

impl WriteWindow {
    /// A window of `INITIAL` (at most `ceiling`), growing up to `ceiling`.
    pub fn new(ceiling: usize) -> Self {
        let ceiling = ceiling.max(1);
        let size = INITIAL.min(ceiling);
        Self {
            places: Semaphore::new(size),
            window: Mutex::new(Window {
                size,
                prompt: 0,
                owed: 0,
            }),
            ceiling,
        }
    }

    /// The writes allowed in flight now.
    pub fn size(&self) -> usize {
        self.window.lock().map_or(INITIAL, |w| w.size)
    }

    /// Makes one write within the window, and sizes the window by its answer.
    pub async fn write<T>(
        &self,
        write: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, kube::Error> {
        // The semaphore is never closed: acquiring fails only then, and the write then goes ahead.
        let place = self.places.acquire().await.ok();
        let started = Instant::now();
        let result = write.await;
        let refused = matches!(&result, Err(kube::Error::Api(e)) if e.code == 429);
        let congested = refused || started.elapsed() > SLOW;
        let keep_place = self.answered(congested);
        if let (Some(place), true) = (place, keep_place) {
            place.forget();
        }
        result
    }

    /// Sizes the window by one answer; whether the place of the write that got it is taken away.
    fn answered(&self, congested: bool) -> bool {
        let Ok(mut w) = self.window.lock() else {
            return false;
        };
        if congested {
            let smaller = (w.size / 2).max(1);
            w.owed += w.size - smaller;
            w.size = smaller;
            w.prompt = 0;
        } else {
            w.prompt += 1;
            if w.prompt >= w.size && w.size < self.ceiling {
                w.size += 1;
                w.prompt = 0;
                if w.owed > 0 {
                    w.owed -= 1;
                } else {
                    self.places.add_permits(1);
                }
            }
        }
        if w.owed > 0 {
            w.owed -= 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn too_many() -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure("too many requests", "TooManyRequests")
                .with_code(429)
                .boxed(),
        )
    }

    #[tokio::test]
    async fn grows_while_prompt_and_halves_on_429() {
        let window = WriteWindow::new(12);
        assert_eq!(window.size(), INITIAL);
        for _ in 0..INITIAL {
            window.write(async { Ok::<_, kube::Error>(()) }).await.ok();
        }
        assert_eq!(window.size(), INITIAL + 1, "a window of prompt writes");
        for _ in 0..200 {
            window.write(async { Ok::<_, kube::Error>(()) }).await.ok();
        }
        assert_eq!(window.size(), 12, "up to the ceiling");
        assert_eq!(window.places.available_permits(), 12);
        assert!(window
            .write(async { Err::<(), _>(too_many()) })
            .await
            .is_err());
        assert_eq!(window.size(), 6);
        // The places taken away: the refused write's own now, the rest as writes end.
        assert_eq!(window.places.available_permits(), 11);
        for _ in 0..5 {
            window.write(async { Ok::<_, kube::Error>(()) }).await.ok();
        }
        assert_eq!(window.places.available_permits(), 6);
        assert_eq!(window.size(), 6);
    }

    #[tokio::test]
    async fn a_slow_answer_is_congestion() {
        tokio::time::pause();
        let window = WriteWindow::new(64);
        window
            .write(async {
                tokio::time::sleep(SLOW * 2).await;
                Ok::<_, kube::Error>(())
            })
            .await
            .ok();
        assert_eq!(window.size(), INITIAL / 2);
    }
}
