//! De-duplication of events that two sources deliver: a poll and a live
//! session overlap, and live events carry no event id, so an event is known by
//! its group, stream, timestamp and message.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use super::TailEvent;

pub(super) fn fingerprint(group: u16, stream: &str, message: &str) -> u64 {
    let mut h = DefaultHasher::new();
    group.hash(&mut h);
    stream.hash(&mut h);
    message.hash(&mut h);
    h.finish()
}

/// Events delivered recently, to drop the second copy of an event that two
/// sources (a poll and a live session) both return.
///
/// Events are counted per (timestamp, fingerprint), and each source ("run")
/// counts its own: the k-th copy a run brings is new only if fewer than k were
/// delivered, so repeated identical lines survive and overlaps do not.
#[derive(Debug, Default)]
pub(super) struct Seen {
    by_ts: BTreeMap<i64, HashMap<u64, Count>>,
    run: u64,
}

#[derive(Debug, Clone, Copy)]
struct Count {
    delivered: u32,
    run: u64,
    in_run: u32,
}

impl Seen {
    pub(super) fn new_run(&mut self) {
        self.run += 1;
    }

    /// Whether `e` is new; if so, it counts as delivered.
    pub(super) fn admit(&mut self, e: &TailEvent) -> bool {
        let run = self.run;
        let fp = fingerprint(e.group, &e.stream, &e.message);
        let c = self
            .by_ts
            .entry(e.ts)
            .or_default()
            .entry(fp)
            .or_insert(Count {
                delivered: 0,
                run,
                in_run: 0,
            });
        if c.run != run {
            c.run = run;
            c.in_run = 0;
        }
        c.in_run += 1;
        if c.in_run <= c.delivered {
            false
        } else {
            c.delivered = c.in_run;
            true
        }
    }

    /// Forgets events older than `before`.
    pub(super) fn prune(&mut self, before: i64) {
        if self
            .by_ts
            .first_key_value()
            .is_some_and(|(ts, _)| *ts < before)
        {
            self.by_ts = self.by_ts.split_off(&before);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, message: &str) -> TailEvent {
        TailEvent {
            group: 0,
            stream: "s".into(),
            ts,
            id: String::new(),
            message: message.into(),
        }
    }

    #[test]
    fn seen_drops_overlaps_but_keeps_repeated_lines() {
        let mut seen = Seen::default();
        seen.new_run();
        // A poll returns two identical lines in one millisecond, and another.
        assert!(seen.admit(&ev(1, "same")));
        assert!(seen.admit(&ev(1, "same")));
        assert!(seen.admit(&ev(2, "other")));
        // The live session returns one of the identical lines, then a new copy.
        seen.new_run();
        assert!(!seen.admit(&ev(1, "same")));
        assert!(!seen.admit(&ev(1, "same")));
        assert!(seen.admit(&ev(1, "same")));
        assert!(!seen.admit(&ev(2, "other")));
        assert!(seen.admit(&ev(3, "new")));
        // Forgotten events are new again.
        seen.prune(3);
        seen.new_run();
        assert!(seen.admit(&ev(2, "other")));
        assert!(!seen.admit(&ev(3, "new")));
    }
}
