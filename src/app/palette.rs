//! What the command palette offers for what was typed, best first.

use super::action::Action;

/// The palette's candidates for what was typed: every action whose name or
/// description contains each typed word, mutating ones left out when read-only.
///
/// Enter runs the first candidate, so an action whose name is exactly what was
/// typed comes first, then names that start with it, then the rest in table
/// order: typing `refresh` must never run `refresh_all` just because it is
/// listed earlier or matches too.
pub fn palette_matches(input: &str, read_only: bool) -> Vec<Action> {
    let words: Vec<String> = input.split_whitespace().map(str::to_lowercase).collect();
    let typed = input.trim().to_lowercase();
    let mut matches: Vec<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|a| *a != Action::Palette)
        .filter(|a| !read_only || a.offered_read_only())
        .filter(|a| {
            let hay = format!("{} {}", a.name(), a.description().to_lowercase());
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect();
    // A stable sort keeps the table order within each rank.
    matches.sort_by_key(|a| rank(a.name(), &typed));
    matches
}

fn rank(name: &str, typed: &str) -> u8 {
    if typed.is_empty() {
        2
    } else if name == typed {
        0
    } else if name.starts_with(typed) {
        1
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(input: &str) -> Vec<&'static str> {
        palette_matches(input, false)
            .into_iter()
            .map(Action::name)
            .collect()
    }

    #[test]
    fn an_exact_name_ranks_first() {
        assert_eq!(names("refresh")[..2], ["refresh", "refresh_all"]);
        // `select` is also in the descriptions of actions listed before it.
        let select = names("select");
        assert_eq!(select[0], "select", "{select:?}");
        assert!(select.contains(&"vpn_sign"), "{select:?}");
        // `open` is also in "Show the OpenSearch domain" (panel_index, listed earlier).
        assert_eq!(names("open")[0], "open");
        assert_eq!(names("  Up ")[0], "up");
    }

    #[test]
    fn name_prefixes_come_next_then_the_rest_in_table_order() {
        // panel_log_groups and panel_logs precede log_filter in the table.
        let log = names("log");
        assert_eq!(
            log[..3],
            ["log_filter", "log_since", "log_level"],
            "{log:?}"
        );
        let rest = &log[3..];
        assert!(rest.contains(&"panel_log_groups"), "{log:?}");
        let table: Vec<&str> = Action::ALL
            .iter()
            .map(|a| a.name())
            .filter(|n| rest.contains(n))
            .collect();
        assert_eq!(rest, table);
        // tail_logs before panel_logs ("Show the live log tail").
        assert_eq!(names("tail")[0], "tail_logs");
    }

    #[test]
    fn every_typed_word_must_match_and_read_only_hides_mutating_actions() {
        assert_eq!(names("log groups")[0], "panel_log_groups");
        assert!(names("no such thing").is_empty());
        assert!(names("").len() == Action::ALL.len() - 1);
        assert!(
            palette_matches("vpn", true)
                .iter()
                .all(|a| !a.is_mutating())
        );
        assert!(names("vpn").contains(&"vpn_publish"));
        // Of the changes, read-only offers only the invoke (as a dry run).
        let lambda_ro = palette_matches("lambda", true);
        assert_eq!(
            lambda_ro
                .iter()
                .filter(|a| a.is_mutating())
                .collect::<Vec<_>>(),
            vec![&Action::LambdaInvoke]
        );
        assert!(palette_matches("lambda", false).contains(&Action::LambdaDisableAll));
    }
}
