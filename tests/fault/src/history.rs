//! A history of lock operations from several processes (clients) on one key, and the checks
//! the fault suite runs on it.
//!
//! Every operation is recorded with its start and end instant, the fencing token it ran under
//! and its outcome: OK (acknowledged), REFUSED (the store said no: held, lost, expired) or
//! UNKNOWN (no answer: it may or may not have taken effect). Writes append an entry
//! `<token>.<n>` to the key's state, so the state read at the end is the store's own order of
//! accepted writes, and the checks judge against it rather than against wall clocks alone.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

/// What a process did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `acquire` / `try_acquire`; the token is the guard's.
    Acquire,
    /// `put` of a state entry under a held lock.
    Put,
    /// `release` with a state entry.
    Release,
    /// `with_lock` writing an entry (acquire + write + release in one call).
    WithLock,
    /// `wait` until the key is free.
    Wait,
    /// `campaign` (leader election); the token is the term.
    Campaign,
}

/// How it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged by the store.
    Ok,
    /// The store refused (or a wait timed out).
    Refused,
    /// No answer: it may or may not have taken effect.
    Unknown,
}

/// One recorded operation.
#[derive(Clone, Debug)]
pub struct Event {
    /// Which client did it.
    pub process: usize,
    pub op: Op,
    /// The token it ran under (`None` for a refused acquire or a wait).
    pub token: Option<u64>,
    /// The state entry a write carried: `<token>.<n>-<tag>`, or `w<process>-<n>` from `with_lock`
    /// (whose callback does not learn its token).
    pub entry: Option<String>,
    pub start: Instant,
    pub end: Instant,
    pub outcome: Outcome,
    /// The lease the operation's lock was taken with.
    pub lease: Duration,
    /// Whether that lock renewed itself (the lease check applies only to non-renewing locks).
    pub renews: bool,
}

/// The recorded history of one key, plus the instants the test knows the key became free
/// without a release (a holder killed: free at kill + lease).
#[derive(Clone, Debug, Default)]
pub struct History {
    pub events: Vec<Event>,
    /// Instants at which the key is known to be free (besides acknowledged releases).
    pub free_at: Vec<Instant>,
    /// A store reset (data wiped by design) between these instants: writes that started
    /// before its end are exempt from the lost-update check, and operations that overlap it
    /// belong to neither side when tokens are compared.
    pub reset: Option<(Instant, Instant)>,
}

/// One broken property, with the events that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub property: &'static str,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.property, self.detail)
    }
}

/// What the checks allow for timing.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// How late past the lease a store may still take a write (clock rate, server clock
    /// granularity) before it counts as accepted past the lease.
    pub lease_slack: Duration,
    /// A waiter must return within lease + this after the key is free.
    pub wake_within: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            lease_slack: Duration::from_millis(250),
            wake_within: Duration::from_secs(2),
        }
    }
}

impl History {
    /// Records an event.
    pub fn push(&mut self, e: Event) {
        self.events.push(e);
    }

    /// Appends the events of another recorder (another process's).
    pub fn extend(&mut self, other: History) {
        self.events.extend(other.events);
        self.free_at.extend(other.free_at);
    }

    /// Number of recorded operations.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Runs every check against the final state `log` (comma-separated entries in store order,
    /// as read after the run); returns every violation found.
    pub fn check(&self, log: &str, bounds: Bounds) -> Vec<Violation> {
        let log: Vec<String> = log
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let mut v = Vec::new();
        v.extend(self.check_store_order(&log));
        v.extend(self.check_exclusion_in_time());
        v.extend(self.check_tokens_increase());
        v.extend(self.check_no_lost_update(&log));
        v.extend(self.check_no_write_past_lease(bounds));
        v.extend(self.check_waiters(bounds));
        v
    }

    /// `Some(0)` before the declared store reset, `Some(1)` after it, `None` for an operation
    /// that overlaps it (its token may come from either store). Tokens are compared and matched
    /// only within one epoch, and across it by a check of its own.
    fn epoch(&self, e: &Event) -> Option<u8> {
        match self.reset {
            None => Some(0),
            Some((from, _)) if e.end < from => Some(0),
            Some((_, to)) if e.start > to => Some(1),
            Some(_) => None,
        }
    }

    fn same_epoch(&self, a: &Event, b: &Event) -> bool {
        self.epoch(a).is_some() && self.epoch(a) == self.epoch(b)
    }

    fn writes(&self) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .filter(|e| matches!(e.op, Op::Put | Op::Release | Op::WithLock) && e.entry.is_some())
    }

    fn acquires(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(|e| {
            matches!(e.op, Op::Acquire | Op::Campaign | Op::WithLock) && e.outcome == Outcome::Ok
        })
    }

    /// Mutual exclusion in the store's order: in the final log, the writes of one holder form
    /// one run and runs come in increasing token order; once a higher token wrote, no lower
    /// token's write was accepted after it.
    fn check_store_order(&self, log: &[String]) -> Vec<Violation> {
        let mut v = Vec::new();
        // `with_lock` entries (`w…`) carry no token; the others must come in token order.
        let tokened: Vec<(u64, u64)> = log.iter().filter_map(|e| parse_entry(e)).collect();
        for w in tokened.windows(2) {
            let ((t1, n1), (t2, n2)) = (w[0], w[1]);
            if t2 < t1 || (t2 == t1 && n2 <= n1) {
                v.push(Violation {
                    property: "mutual exclusion (store order)",
                    detail: format!(
                        "entry {t2}.{n2} was accepted after {t1}.{n1}: two holders' writes \
                         interleave"
                    ),
                });
            }
        }
        v
    }

    /// No two held intervals overlap in real time: a write acknowledged for token `t` did not
    /// start after an acquire of a higher token had returned.
    fn check_exclusion_in_time(&self) -> Vec<Violation> {
        let mut v = Vec::new();
        for w in self.writes().filter(|w| w.outcome == Outcome::Ok) {
            let Some(t) = w.token else { continue };
            if let Some(a) = self.acquires().find(|a| {
                a.token.is_some_and(|t2| t2 > t) && a.end < w.start && self.same_epoch(a, w)
            }) {
                v.push(Violation {
                    property: "mutual exclusion (held intervals)",
                    detail: format!(
                        "process {} wrote {:?} under token {t} {:?} after process {} had \
                         acquired token {:?}",
                        w.process,
                        w.entry,
                        w.start - a.end,
                        a.process,
                        a.token
                    ),
                });
            }
        }
        v
    }

    /// Tokens strictly increase: two acquires that both succeeded never share a token, and
    /// one that returned before another started has the lower token. Across a declared store
    /// reset the order is checked too, as a property of its own (a store that lost its data may
    /// not be able to keep it).
    fn check_tokens_increase(&self) -> Vec<Violation> {
        let mut v = Vec::new();
        let acq: Vec<(&Event, u64)> = self
            .acquires()
            .filter_map(|a| a.token.map(|t| (a, t)))
            .collect();
        let mut seen: BTreeMap<(u8, u64), usize> = BTreeMap::new();
        for (a, t) in &acq {
            let Some(epoch) = self.epoch(a) else { continue };
            if let Some(p) = seen.insert((epoch, *t), a.process) {
                v.push(Violation {
                    property: "strictly increasing tokens",
                    detail: format!("token {t} granted twice (processes {p} and {})", a.process),
                });
            }
        }
        for (b, tb) in acq.iter().filter(|(b, _)| self.epoch(b).is_some()) {
            // The highest token that had surely been granted when `b` started.
            let before = acq
                .iter()
                .filter(|(a, _)| a.end < b.start && self.epoch(a).is_some())
                .max_by_key(|(a, ta)| (self.same_epoch(a, b), *ta));
            let Some((a, ta)) = before else { continue };
            // Within an epoch a repeated token is "granted twice" above; across a reset it is
            // a token that did not increase.
            if ta > tb || (ta == tb && !self.same_epoch(a, b)) {
                let property = if self.same_epoch(a, b) {
                    "strictly increasing tokens"
                } else {
                    "tokens increase across a store reset"
                };
                v.push(Violation {
                    property,
                    detail: format!(
                        "token {tb} (process {}) was granted after token {ta} (process {}) had \
                         returned",
                        b.process, a.process
                    ),
                });
            }
        }
        v
    }

    /// Every acknowledged write is in the final log, and every entry in the log was written
    /// by an acknowledged or unknown write (nothing refused or invented landed).
    fn check_no_lost_update(&self, log: &[String]) -> Vec<Violation> {
        let in_log: BTreeSet<String> = log.iter().cloned().collect();
        let mut v = Vec::new();
        for w in self.writes() {
            let entry = w.entry.as_ref().expect("writes carry entries");
            let exempt = self.reset.is_some_and(|(_, to)| w.start < to);
            match w.outcome {
                Outcome::Ok if !exempt && !in_log.contains(entry) => v.push(Violation {
                    property: "no acknowledged update lost",
                    detail: format!(
                        "process {}'s write {entry} was acknowledged but is not in the final \
                         state",
                        w.process
                    ),
                }),
                Outcome::Refused if in_log.contains(entry) => v.push(Violation {
                    property: "no acknowledged update lost",
                    detail: format!(
                        "process {}'s write {entry} was reported refused but is in the final \
                         state (a caller would apply it twice)",
                        w.process
                    ),
                }),
                _ => {}
            }
        }
        let written: BTreeSet<&String> = self.writes().filter_map(|w| w.entry.as_ref()).collect();
        for e in &in_log {
            if !written.contains(e) {
                v.push(Violation {
                    property: "no acknowledged update lost",
                    detail: format!("entry {e} in the final state was never written"),
                });
            }
        }
        v
    }

    /// No write of a non-renewing holder was acknowledged when it started after that holder's
    /// lease had surely run out (acquire's return + lease + slack).
    fn check_no_write_past_lease(&self, bounds: Bounds) -> Vec<Violation> {
        let mut v = Vec::new();
        for w in self
            .writes()
            .filter(|w| w.outcome == Outcome::Ok && w.op != Op::WithLock)
        {
            let Some(t) = w.token else { continue };
            let Some(a) = self.acquires().find(|a| {
                a.token == Some(t) && a.process == w.process && !a.renews && self.same_epoch(a, w)
            }) else {
                continue;
            };
            let deadline = a.end + a.lease + bounds.lease_slack;
            if w.start > deadline {
                v.push(Violation {
                    property: "no write accepted past its lease",
                    detail: format!(
                        "process {}'s write {:?} under token {t} started {:?} after its lease \
                         ({:?}) ended and was acknowledged",
                        w.process,
                        w.entry,
                        w.start - deadline,
                        a.lease
                    ),
                });
            }
        }
        v
    }

    /// Free instants: acknowledged releases and the test's own `free_at`, each kept only if no
    /// other acquire returned within lease + bound after it (a key taken again at once need not
    /// wake anyone).
    fn free_points(&self, lease: Duration, bounds: Bounds) -> Vec<Instant> {
        let mut points: Vec<Instant> = self
            .events
            .iter()
            .filter(|e| e.op == Op::Release && e.outcome == Outcome::Ok)
            .map(|e| e.end)
            .chain(self.free_at.iter().copied())
            .collect();
        points.retain(|f| {
            !self
                .acquires()
                .any(|a| a.end > *f && a.end < *f + lease + bounds.wake_within)
        });
        points.sort();
        points
    }

    /// Every waiter returns within lease + bound after the key became free, and none returns
    /// "free" while a non-renewing holder surely still held the key.
    fn check_waiters(&self, bounds: Bounds) -> Vec<Violation> {
        let mut v = Vec::new();
        for w in self.events.iter().filter(|e| e.op == Op::Wait) {
            let late_after = w.lease + bounds.wake_within;
            // A wait still running at a free point (or started while the key stayed free, e.g.
            // an application's retry after an error) must return within the bound of the later
            // of the two instants.
            let late = self
                .free_points(w.lease, bounds)
                .into_iter()
                .filter(|f| w.end > *f && w.start <= *f + late_after)
                .map(|f| (f, f.max(w.start)))
                .find(|(_, from)| w.end > *from + late_after);
            if let Some((f, from)) = late {
                v.push(Violation {
                    property: "waiters woken in time",
                    detail: format!(
                        "process {}'s wait ({:?}) returned {:?} after the key was free at \
                         {:?} past its start (allowed {late_after:?})",
                        w.process,
                        w.outcome,
                        w.end - from,
                        f.saturating_duration_since(w.start),
                    ),
                });
            }
            if w.outcome != Outcome::Ok {
                continue;
            }
            // Held surely from the acquire's return until the earliest of its holder's release
            // attempt, the lease's earliest end (acquire start + lease) and a store reset (which
            // frees every lock).
            for a in self.acquires().filter(|a| !a.renews && a.op == Op::Acquire) {
                let release = self
                    .events
                    .iter()
                    .filter(|r| {
                        r.op == Op::Release
                            && r.process == a.process
                            && r.token == a.token
                            && r.start >= a.end
                    })
                    .map(|r| r.start)
                    .min();
                let reset = self
                    .reset
                    .map(|(from, _)| from)
                    .filter(|from| *from >= a.end);
                let held_until = [release, reset]
                    .into_iter()
                    .flatten()
                    .fold(a.start + a.lease, Instant::min);
                if w.start > a.end && w.end < held_until {
                    v.push(Violation {
                        property: "waiters woken in time",
                        detail: format!(
                            "process {}'s wait returned 'free' while process {} held token {:?} \
                             ({:?} before it let go)",
                            w.process,
                            a.process,
                            a.token,
                            held_until - w.end
                        ),
                    });
                }
            }
        }
        v
    }
}

/// Parses an entry `<token>.<n>[-<tag>]` written by a holder that knew its token (the tag
/// makes entries unique across a store reset that hands out a token again).
pub fn parse_entry(entry: &str) -> Option<(u64, u64)> {
    let (t, rest) = entry.split_once('.')?;
    let n = rest.split('-').next()?;
    Some((t.parse().ok()?, n.parse().ok()?))
}

/// Appends `entry` to a comma-separated log.
pub fn append(log: Option<&[u8]>, entry: &str) -> String {
    let mut s = log
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .unwrap_or_default();
    if !s.is_empty() {
        s.push(',');
    }
    s.push_str(entry);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_millis(1000);

    /// Builds histories on a millisecond timeline from one origin.
    struct Timeline(Instant);

    impl Timeline {
        fn new() -> Self {
            Timeline(Instant::now())
        }
        fn at(&self, ms: u64) -> Instant {
            self.0 + Duration::from_millis(ms)
        }
        #[allow(clippy::too_many_arguments)]
        fn ev(
            &self,
            process: usize,
            op: Op,
            token: Option<u64>,
            entry: Option<&str>,
            from: u64,
            to: u64,
            outcome: Outcome,
        ) -> Event {
            Event {
                process,
                op,
                token,
                entry: entry.map(str::to_owned),
                start: self.at(from),
                end: self.at(to),
                outcome,
                lease: LEASE,
                renews: false,
            }
        }
    }

    /// Two holders one after the other, each writing once, and a waiter woken at the release.
    fn clean() -> (History, String) {
        let tl = Timeline::new();
        let mut h = History::default();
        h.push(tl.ev(0, Op::Acquire, Some(1), None, 0, 10, Outcome::Ok));
        h.push(tl.ev(0, Op::Put, Some(1), Some("1.1"), 20, 30, Outcome::Ok));
        h.push(tl.ev(2, Op::Wait, None, None, 40, 110, Outcome::Ok));
        h.push(tl.ev(0, Op::Release, Some(1), Some("1.2"), 90, 100, Outcome::Ok));
        h.push(tl.ev(1, Op::Acquire, Some(2), None, 50, 200, Outcome::Ok));
        h.push(tl.ev(1, Op::Release, Some(2), Some("2.1"), 210, 220, Outcome::Ok));
        (h, "1.1,1.2,2.1".into())
    }

    fn properties(v: &[Violation]) -> Vec<&'static str> {
        let mut p: Vec<_> = v.iter().map(|v| v.property).collect();
        p.dedup();
        p
    }

    #[test]
    fn entries_parse_with_or_without_a_tag() {
        assert_eq!(parse_entry("12.2-p1i7"), Some((12, 2)));
        assert_eq!(parse_entry("12.1"), Some((12, 1)));
        assert_eq!(parse_entry("w1-3"), None);
    }

    #[test]
    fn a_clean_history_passes() {
        let (h, log) = clean();
        assert_eq!(h.check(&log, Bounds::default()), vec![]);
    }

    #[test]
    fn interleaved_writes_in_the_store_break_exclusion() {
        let (h, _) = clean();
        let v = h.check("1.1,2.1,1.2", Bounds::default());
        assert!(
            properties(&v).contains(&"mutual exclusion (store order)"),
            "{v:?}"
        );
    }

    #[test]
    fn a_write_acknowledged_after_a_newer_acquire_breaks_exclusion() {
        let tl = Timeline::new();
        let mut h = History::default();
        h.push(tl.ev(0, Op::Acquire, Some(1), None, 0, 10, Outcome::Ok));
        h.push(tl.ev(1, Op::Acquire, Some(2), None, 20, 30, Outcome::Ok));
        h.push(tl.ev(0, Op::Put, Some(1), Some("1.1"), 40, 50, Outcome::Ok));
        let v = h.check("1.1", Bounds::default());
        assert_eq!(
            properties(&v),
            vec!["mutual exclusion (held intervals)"],
            "{v:?}"
        );
    }

    #[test]
    fn a_token_granted_twice_or_going_back_is_caught() {
        let tl = Timeline::new();
        let mut h = History::default();
        h.push(tl.ev(0, Op::Acquire, Some(5), None, 0, 10, Outcome::Ok));
        h.push(tl.ev(1, Op::Acquire, Some(5), None, 20, 30, Outcome::Ok));
        let v = h.check("", Bounds::default());
        assert!(
            v.iter().any(|v| v.detail.contains("granted twice")),
            "{v:?}"
        );
        let mut h = History::default();
        h.push(tl.ev(0, Op::Acquire, Some(5), None, 0, 10, Outcome::Ok));
        h.push(tl.ev(1, Op::Campaign, Some(1), None, 20, 30, Outcome::Ok));
        let v = h.check("", Bounds::default());
        assert_eq!(properties(&v), vec!["strictly increasing tokens"], "{v:?}");
    }

    #[test]
    fn tokens_starting_again_after_a_reset_are_their_own_violation() {
        let tl = Timeline::new();
        let mut h = History::default();
        h.push(tl.ev(0, Op::Acquire, Some(1), None, 0, 10, Outcome::Ok));
        h.push(tl.ev(0, Op::Put, Some(1), Some("1.1-a"), 20, 30, Outcome::Ok));
        h.reset = Some((tl.at(100), tl.at(150)));
        h.push(tl.ev(1, Op::Acquire, Some(1), None, 200, 210, Outcome::Ok));
        h.push(tl.ev(1, Op::Put, Some(1), Some("1.1"), 220, 230, Outcome::Ok));
        let v = h.check("1.1", Bounds::default());
        assert_eq!(
            properties(&v),
            vec!["tokens increase across a store reset"],
            "{v:?}"
        );
        // Two holders of one token after the reset are still caught.
        h.push(tl.ev(2, Op::Acquire, Some(1), None, 240, 250, Outcome::Ok));
        let v = h.check("1.1", Bounds::default());
        assert!(
            v.iter().any(|v| v.detail.contains("granted twice")),
            "{v:?}"
        );
    }

    #[test]
    fn an_acknowledged_write_missing_from_the_state_is_lost() {
        let (h, _) = clean();
        let v = h.check("1.1,2.1", Bounds::default());
        assert_eq!(properties(&v), vec!["no acknowledged update lost"], "{v:?}");
        assert!(v[0].detail.contains("1.2"));
    }

    #[test]
    fn a_reset_exempts_earlier_writes_but_not_later_ones() {
        let (mut h, _) = clean();
        let at = h.events[0].start + Duration::from_millis(150);
        h.reset = Some((at, at));
        // 1.1 and 1.2 were written before the reset; 2.1 after it must survive.
        assert_eq!(h.check("2.1", Bounds::default()), vec![]);
        let v = h.check("", Bounds::default());
        assert_eq!(v.len(), 1, "{v:?}");
    }

    #[test]
    fn a_refused_write_in_the_state_or_an_invented_entry_is_caught() {
        let (mut h, _) = clean();
        h.events[5].outcome = Outcome::Refused;
        let v = h.check("1.1,1.2,2.1", Bounds::default());
        assert!(v[0].detail.contains("reported refused"), "{v:?}");
        let (h, _) = clean();
        let v = h.check("1.1,1.2,2.1,3.1", Bounds::default());
        assert!(
            v.iter().any(|v| v.detail.contains("never written")),
            "{v:?}"
        );
        // An unknown outcome may or may not have landed: both are fine.
        let (mut h, _) = clean();
        h.events[5].outcome = Outcome::Unknown;
        assert_eq!(h.check("1.1,1.2,2.1", Bounds::default()), vec![]);
        assert_eq!(h.check("1.1,1.2", Bounds::default()), vec![]);
    }

    #[test]
    fn a_write_accepted_past_the_lease_is_caught() {
        let tl = Timeline::new();
        let mut h = History::default();
        h.push(tl.ev(0, Op::Acquire, Some(1), None, 0, 10, Outcome::Ok));
        h.push(tl.ev(0, Op::Put, Some(1), Some("1.1"), 1500, 1510, Outcome::Ok));
        let v = h.check("1.1", Bounds::default());
        assert_eq!(
            properties(&v),
            vec!["no write accepted past its lease"],
            "{v:?}"
        );
        // A renewing holder's lease moved on: no violation.
        h.events[0].renews = true;
        assert_eq!(h.check("1.1", Bounds::default()), vec![]);
    }

    #[test]
    fn a_waiter_woken_late_or_told_free_while_held_is_caught() {
        let tl = Timeline::new();
        let mut h = History::default();
        h.push(tl.ev(0, Op::Acquire, Some(1), None, 0, 10, Outcome::Ok));
        h.push(tl.ev(0, Op::Release, Some(1), Some("1.1"), 90, 100, Outcome::Ok));
        // The waiter returns 4 s after the release at 100 ms, nobody having taken the key.
        h.push(tl.ev(1, Op::Wait, None, None, 40, 4100, Outcome::Ok));
        let v = h.check("1.1", Bounds::default());
        assert!(
            v.iter()
                .any(|v| v.detail.contains("after the key was free")),
            "{v:?}"
        );
        // Told free at 60 ms while process 0 held token 1 until its release at 90 ms.
        let (mut h, log) = clean();
        h.events[2].end = h.events[0].start + Duration::from_millis(60);
        let v = h.check(&log, Bounds::default());
        assert!(
            v.iter().any(|v| v.detail.contains("while process 0 held")),
            "{v:?}"
        );
    }

    #[test]
    fn a_wait_started_after_the_key_is_free_must_return_in_time_too() {
        let tl = Timeline::new();
        let mut h = History::default();
        h.push(tl.ev(0, Op::Acquire, Some(1), None, 0, 10, Outcome::Ok));
        h.push(tl.ev(0, Op::Release, Some(1), Some("1.1"), 90, 100, Outcome::Ok));
        // A first attempt failed before the release; the retry starts after it and hangs.
        h.push(tl.ev(1, Op::Wait, None, None, 20, 50, Outcome::Unknown));
        h.push(tl.ev(1, Op::Wait, None, None, 500, 6000, Outcome::Refused));
        let v = h.check("1.1", Bounds::default());
        assert_eq!(properties(&v), vec!["waiters woken in time"], "{v:?}");
        h.events[3].end = tl.at(600);
        h.events[3].outcome = Outcome::Ok;
        assert_eq!(h.check("1.1", Bounds::default()), vec![]);
    }

    #[test]
    fn a_store_reset_frees_the_key_for_waiters() {
        let tl = Timeline::new();
        let mut h = History::default();
        h.push(tl.ev(0, Op::Acquire, Some(9), None, 0, 10, Outcome::Ok));
        h.push(tl.ev(1, Op::Wait, None, None, 100, 400, Outcome::Ok));
        let v = h.check("", Bounds::default());
        assert!(
            v.iter().any(|v| v.detail.contains("while process 0 held")),
            "{v:?}"
        );
        // The store lost everything at 300 ms: "free" at 400 ms is the truth.
        h.reset = Some((tl.at(300), tl.at(320)));
        assert_eq!(h.check("", Bounds::default()), vec![]);
    }

    #[test]
    fn a_holder_killed_frees_the_key_at_the_known_instant() {
        let tl = Timeline::new();
        let mut h = History::default();
        h.push(tl.ev(0, Op::Acquire, Some(1), None, 0, 10, Outcome::Ok));
        h.free_at.push(tl.at(1010));
        h.push(tl.ev(1, Op::Wait, None, None, 100, 5000, Outcome::Refused));
        let v = h.check("", Bounds::default());
        assert_eq!(properties(&v), vec!["waiters woken in time"], "{v:?}");
        h.events[1].end = tl.at(1200);
        h.events[1].outcome = Outcome::Ok;
        assert_eq!(h.check("", Bounds::default()), vec![]);
    }
}
