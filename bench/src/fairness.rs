//! W2's fairness figures: how evenly the contending tasks got the lock (increments per task,
//! summed over the measured rounds) and the longest any single task waited for it.

use std::time::Duration;

/// What one W2 round measured, fencelock's or the raw baseline's.
pub(crate) struct Round {
    /// Increments in the round.
    pub(crate) ops: u64,
    pub(crate) elapsed: Duration,
    /// Increments of each task, in a fixed task order (client by client).
    pub(crate) per_task: Vec<u64>,
    /// The longest time one call waited before it held the lock.
    pub(crate) longest_wait: Duration,
}

impl Round {
    pub(crate) fn tally(&self) -> (u64, Duration) {
        (self.ops, self.elapsed)
    }
}

/// Fairness over several rounds: task i of every round is counted as the same task.
#[derive(Default)]
pub(crate) struct Fairness {
    per_task: Vec<u64>,
    longest: Duration,
}

impl Fairness {
    pub(crate) fn add(&mut self, r: &Round) {
        if self.per_task.len() < r.per_task.len() {
            self.per_task.resize(r.per_task.len(), 0);
        }
        for (sum, n) in self.per_task.iter_mut().zip(&r.per_task) {
            *sum += n;
        }
        self.longest = self.longest.max(r.longest_wait);
    }

    /// (min, median, max) increments per task.
    pub(crate) fn spread(&self) -> (u64, u64, u64) {
        let mut v = self.per_task.clone();
        v.sort_unstable();
        match v.len() {
            0 => (0, 0, 0),
            n => (v[0], v[n / 2], v[n - 1]),
        }
    }

    /// Tasks that never got the lock in any measured round.
    pub(crate) fn starved(&self) -> usize {
        self.per_task.iter().filter(|n| **n == 0).count()
    }

    pub(crate) fn tasks(&self) -> usize {
        self.per_task.len()
    }

    pub(crate) fn longest(&self) -> Duration {
        self.longest
    }

    /// "min / median / max".
    pub(crate) fn describe(&self) -> String {
        let (lo, mid, hi) = self.spread();
        format!("{lo} / {mid} / {hi}")
    }

    /// The least-served task's share of the median one (1 = perfectly even).
    pub(crate) fn evenness(&self) -> f64 {
        let (lo, mid, _) = self.spread();
        if mid == 0 {
            0.0
        } else {
            lo as f64 / mid as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(per_task: Vec<u64>, wait_ms: u64) -> Round {
        Round {
            ops: per_task.iter().sum(),
            elapsed: Duration::from_secs(1),
            per_task,
            longest_wait: Duration::from_millis(wait_ms),
        }
    }

    #[test]
    fn sums_tasks_over_rounds_and_keeps_the_longest_wait() {
        let mut f = Fairness::default();
        f.add(&round(vec![3, 0, 5], 7));
        f.add(&round(vec![1, 0, 2], 9));
        assert_eq!(f.spread(), (0, 4, 7));
        assert_eq!(f.starved(), 1);
        assert_eq!(f.longest(), Duration::from_millis(9));
        assert_eq!(f.describe(), "0 / 4 / 7");
        assert_eq!(f.evenness(), 0.0);
    }
}
