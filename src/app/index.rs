//! The Index panel's state: the search domain, its cluster's health and its
//! indices as a list (filter, sort, count like the other panels).

use std::cmp::Ordering;

use super::list::{ListPanel, Row};
use crate::model::{ClusterColour, ClusterHealth, IndexRow, IndexView, Problem};

/// What the panel knows beyond the domain (which stays in `Session::index`).
#[derive(Debug, Clone, Default)]
pub struct IndexPanel {
    pub list: ListPanel<IndexRow>,
    pub health: Option<ClusterHealth>,
    /// Where the data plane was asked.
    pub endpoint: Option<String>,
    /// Why the data plane could not be read at the last refresh.
    pub problem: Option<Problem>,
}

impl IndexPanel {
    /// Takes a refresh's answer. A data-plane failure keeps the last rows
    /// (marked stale by the problem) rather than blanking the list.
    pub fn apply(&mut self, view: &IndexView) {
        self.endpoint = view.endpoint.clone();
        self.problem = view.problem.clone();
        if view.problem.is_none() {
            self.health = view.health.clone();
            self.list.set_rows(view.indices.clone());
        }
    }

    /// The colour the header shows from every panel: yellow or red only.
    pub fn alarm(&self) -> Option<ClusterColour> {
        self.health
            .as_ref()
            .and_then(|h| h.status)
            .filter(|c| *c != ClusterColour::Green)
    }
}

impl Row for IndexRow {
    const COLUMNS: &'static [&'static str] = &[
        "Index", "Health", "Status", "Docs", "Deleted", "Size", "Pri size", "Pri", "Rep", "Aliases",
    ];

    fn name(&self) -> &str {
        &self.name
    }

    fn matches(&self, needle: &str) -> bool {
        self.name.to_lowercase().contains(needle)
            || self
                .aliases
                .iter()
                .any(|a| a.to_lowercase().contains(needle))
            || self.health.as_deref() == Some(needle)
    }

    fn compare(&self, other: &Self, column: usize) -> Ordering {
        let rank = |h: &Option<String>| match h.as_deref() {
            Some("red") => 0,
            Some("yellow") => 1,
            Some("green") => 2,
            _ => 3,
        };
        // Counts and sizes: largest first, as the other panels' depths.
        let desc = |a: Option<u64>, b: Option<u64>| b.cmp(&a);
        match column {
            1 => rank(&self.health).cmp(&rank(&other.health)),
            2 => self.status.cmp(&other.status),
            3 => desc(self.docs, other.docs),
            4 => desc(self.deleted, other.deleted),
            5 => desc(self.size, other.size),
            6 => desc(self.primary_size, other.primary_size),
            7 => other.primaries.cmp(&self.primaries),
            8 => other.replicas.cmp(&self.replicas),
            9 => self.aliases.cmp(&other.aliases),
            _ => self.name.cmp(&other.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, docs: u64, alias: Option<&str>) -> IndexRow {
        IndexRow {
            name: name.into(),
            health: Some("green".into()),
            status: "open".into(),
            docs: Some(docs),
            aliases: alias.map(|a| vec![a.to_string()]).unwrap_or_default(),
            ..IndexRow::default()
        }
    }

    #[test]
    fn filter_finds_an_index_by_its_alias_and_sort_puts_the_biggest_first() {
        let mut p = IndexPanel::default();
        p.apply(&IndexView {
            indices: vec![
                row("dev-files-v1", 10, Some("dev-files")),
                row("dev-samples-v1", 500, Some("dev-samples")),
                row(".kibana_1", 3, None),
            ],
            ..IndexView::default()
        });
        p.list.set_filter("samples".into());
        assert_eq!(p.list.view.len(), 1);
        p.list.set_filter(String::new());
        p.list.sort_column = 2;
        p.list.sort_by_next_column(); // Docs
        let names: Vec<_> = p.list.visible_rows().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["dev-samples-v1", "dev-files-v1", ".kibana_1"]);
    }

    #[test]
    fn a_failed_refresh_keeps_the_rows_and_says_why() {
        let mut p = IndexPanel::default();
        p.apply(&IndexView {
            indices: vec![row("a", 1, None)],
            ..IndexView::default()
        });
        p.apply(&IndexView {
            problem: Some(Problem::new(crate::model::ProblemKind::Unreachable, "gone")),
            ..IndexView::default()
        });
        assert_eq!(p.list.rows.len(), 1);
        assert!(p.problem.is_some());
    }
}
