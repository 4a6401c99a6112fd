//! Paces the polls of a whole plan so that it stays within a budget of ARM reads per minute,
//! whatever the number of databases: each poll takes the next free slot, slots `60 / budget`
//! seconds apart. ARM throttles reads per subscription and principal (historically 12,000 an hour,
//! now a token bucket refilled at a similar rate); the default budget (see `migration::
//! DEFAULT_ARM_READS_PER_MINUTE`) spends a fraction of it, leaving room for the portal and other tools.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Debug)]
pub struct Pacer {
    spacing: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// At most `reads` polls a minute (at least one).
    pub fn per_minute(reads: u32) -> Pacer {
        Pacer { spacing: Duration::from_secs(60) / reads.max(1), next: Mutex::new(None) }
    }

    /// Waits for the next slot.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.spacing);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_by_the_budget() {
        let pacer = Pacer::per_minute(120);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        // 5 polls: the first at once, then every 0.5 s.
        assert_eq!(start.elapsed(), Duration::from_millis(2000));
    }
}
