//! Waits that may last (a keychain answering through D-Bus, an unlock
//! prompt, another thread holding the catalog) must not stall the async
//! workers that serve the app's other commands: on a multi-threaded tokio
//! runtime the wait is announced with `block_in_place`, so the runtime
//! moves its other tasks to another worker meanwhile. Elsewhere (a plain
//! thread, a current-thread runtime) the wait simply happens.

/// Runs a blocking wait without holding up an async worker.
pub fn wait<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::wait;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_long_wait_does_not_stop_other_tasks() {
        // One worker: without block_in_place the ticker could not run
        // while the wait sleeps.
        let ticker = tokio::spawn(async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            std::time::Instant::now()
        });
        let started = std::time::Instant::now();
        wait(|| std::thread::sleep(std::time::Duration::from_millis(400)));
        let ticked = ticker.await.expect("ticker");
        assert!(
            ticked.duration_since(started) < std::time::Duration::from_millis(300),
            "the other task waited for the blocking call"
        );
    }

    #[tokio::test]
    async fn a_current_thread_runtime_just_waits() {
        assert_eq!(wait(|| 7), 7);
    }
}
