//! A stack's whole event history, over the Stacks panel: paged in from
//! CloudFormation as the user scrolls or filters, and a list like any other
//! (filter, sort, selection), so the keys are the ones every panel has.
//!
//! CloudFormation pages the history newest first. The first page comes when
//! the view opens; an older one whenever the selection comes within a screen
//! of the end of what is shown. A filter that leaves less than a screen of
//! rows so pulls page after page until the screen fills or the history ends:
//! filtering searches the whole history, not just what was loaded.

use std::cmp::Ordering;

use super::list::{ListPanel, Row};
use crate::aws::Request;
use crate::model::StackEvent;

#[derive(Debug, Clone)]
pub struct EventHistory {
    pub stack: String,
    /// The events loaded so far; `list.fetch` is the bookkeeping of the one
    /// request out at a time.
    pub list: ListPanel<StackEvent>,
    /// The token of the next, older page; `None` before the first answer and
    /// once the oldest event is in.
    pub next: Option<String>,
    /// Pages answered, the first one included.
    pub pages: usize,
}

impl EventHistory {
    /// A view of `stack`'s history, newest first, and the request for its first page.
    pub fn open(stack: &str, now: std::time::Instant) -> (Self, Request) {
        let mut list = ListPanel {
            sort_reverse: true,
            ..ListPanel::default()
        };
        list.fetch.begin(now);
        let view = EventHistory {
            stack: stack.to_string(),
            list,
            next: None,
            pages: 0,
        };
        let first = view.page(None);
        (view, first)
    }

    pub fn page(&self, next: Option<String>) -> Request {
        Request::StackEvents {
            stack: self.stack.clone(),
            next,
        }
    }

    /// Every event is in.
    pub fn complete(&self) -> bool {
        self.pages > 0 && self.next.is_none()
    }

    /// Takes a page. The first page again (a refresh) adds only the events
    /// that are new since, and leaves the paging where it was.
    pub fn apply(&mut self, asked: Option<&str>, events: Vec<StackEvent>, next: Option<String>) {
        let first_again = asked.is_none() && self.pages > 0;
        let known: std::collections::HashSet<&str> =
            self.list.rows.iter().map(|e| e.id.as_str()).collect();
        let new: Vec<StackEvent> = events
            .into_iter()
            .filter(|e| !known.contains(e.id.as_str()))
            .collect();
        self.list.extend_rows(new);
        if !first_again {
            self.next = next;
        }
        self.pages += 1;
    }

    /// The request for the next older page, when one is wanted: none is out,
    /// there is one, and the selection is within `height` rows of the end of
    /// what the filter shows.
    pub fn wants_more(&self, height: usize) -> Option<Request> {
        let f = &self.list.fetch;
        if f.in_flight || f.error.is_some() || self.pages == 0 {
            return None;
        }
        let next = self.next.as_ref()?;
        let near_end = self.list.selected + height.max(1) >= self.list.view.len();
        near_end.then(|| self.page(Some(next.clone())))
    }
}

impl Row for StackEvent {
    const COLUMNS: &'static [&'static str] = &["Time", "Resource", "Type", "Status", "Reason"];

    fn name(&self) -> &str {
        &self.id
    }

    /// Every word typed must match the resource (logical id or type), the
    /// status or the reason: `queue failed` is the failures of the queues.
    fn matches(&self, needle: &str) -> bool {
        let hay = format!(
            "{} {} {} {}",
            self.logical_id,
            self.kind,
            self.status,
            self.reason.as_deref().unwrap_or_default()
        )
        .to_lowercase();
        needle.split_whitespace().all(|w| hay.contains(w))
    }

    fn compare(&self, other: &Self, column: usize) -> Ordering {
        match column {
            1 => self.logical_id.cmp(&other.logical_id),
            2 => self.kind.cmp(&other.kind),
            3 => self.status.cmp(&other.status),
            4 => self.reason.cmp(&other.reason),
            _ => self.time.cmp(&other.time),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, UNIX_EPOCH};

    use super::*;

    fn event(n: u64, id: &str, status: &str) -> StackEvent {
        StackEvent {
            id: format!("e{n}"),
            time: Some(UNIX_EPOCH + Duration::from_secs(n)),
            logical_id: id.into(),
            kind: "AWS::SQS::Queue".into(),
            status: status.into(),
            reason: None,
        }
    }

    fn names(h: &EventHistory) -> Vec<&str> {
        h.list.visible_rows().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn pages_append_older_events_and_a_refresh_adds_only_the_new() {
        let (mut h, first) = EventHistory::open("dev-web", Instant::now());
        assert!(matches!(&first, Request::StackEvents { stack, next: None } if stack == "dev-web"));
        h.list.fetch.finish(Instant::now(), None, Duration::ZERO);
        h.apply(
            None,
            vec![event(9, "Q", "A"), event(8, "Q", "B")],
            Some("t1".into()),
        );
        assert_eq!(names(&h), ["e9", "e8"], "newest first");
        assert!(!h.complete());
        // Within a screen of the end: the older page is wanted.
        let more = h.wants_more(10).unwrap();
        assert!(matches!(more, Request::StackEvents { next: Some(ref t), .. } if t == "t1"));
        h.apply(Some("t1"), vec![event(2, "R", "C")], None);
        assert!(h.complete());
        assert_eq!(h.wants_more(10), None);
        // A refresh: the first page again, with one new event on top.
        h.apply(
            None,
            vec![event(10, "Q", "D"), event(9, "Q", "A")],
            Some("t9".into()),
        );
        assert_eq!(names(&h), ["e10", "e9", "e8", "e2"]);
        assert!(h.complete(), "a refresh does not restart the paging");
    }

    #[test]
    fn far_from_the_end_or_with_a_request_out_nothing_more_is_asked() {
        let (mut h, _) = EventHistory::open("s", Instant::now());
        assert_eq!(h.wants_more(5), None, "the first page is still out");
        h.list.fetch.finish(Instant::now(), None, Duration::ZERO);
        let page: Vec<StackEvent> = (0..100).map(|n| event(n, "Q", "X")).collect();
        h.apply(None, page, Some("t".into()));
        assert_eq!(h.wants_more(20), None, "row 0 of 100, screen of 20");
        h.list.move_by(85, 20);
        assert!(h.wants_more(20).is_some());
        h.list.fetch.begin(Instant::now());
        assert_eq!(h.wants_more(20), None, "one page at a time");
    }

    #[test]
    fn a_filter_matches_every_word_across_resource_type_status_and_reason() {
        let (mut h, _) = EventHistory::open("s", Instant::now());
        h.list.fetch.finish(Instant::now(), None, Duration::ZERO);
        let mut failed = event(3, "UploadQueue", "UPDATE_FAILED");
        failed.reason = Some("Queue name already exists".into());
        let mut role = event(2, "LambdaRole", "UPDATE_FAILED");
        role.kind = "AWS::IAM::Role".into();
        h.apply(
            None,
            vec![failed, role, event(1, "UploadQueue", "UPDATE_COMPLETE")],
            Some("t".into()),
        );
        h.list.set_filter("queue failed".into());
        assert_eq!(names(&h), ["e3"]);
        h.list.set_filter("iam::role".into());
        assert_eq!(names(&h), ["e2"]);
        h.list.set_filter("already exists".into());
        assert_eq!(names(&h), ["e3"]);
        // Two matches leave less than a screen: the next page is wanted.
        h.list.set_filter("failed".into());
        assert!(h.wants_more(20).is_some());
    }
}
