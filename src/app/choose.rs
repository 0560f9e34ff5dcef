//! A short pick list before a plan, for a verb whose target is not a row of
//! the panel: which of the deployment's configured deploy commands to run.
//! Up, down, enter and esc are the keymap's own; the choice then takes the
//! one path every change takes (plan, confirm, job).

use super::action::Action;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chooser {
    pub title: String,
    pub items: Vec<Choice>,
    pub selected: usize,
    /// The verb the choice is for.
    pub then: Action,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// What the verb is given (a command deploy's name).
    pub name: String,
    /// What it does, shown beside the name.
    pub detail: String,
}

impl Chooser {
    pub fn new(title: impl Into<String>, items: Vec<Choice>, then: Action) -> Self {
        Chooser {
            title: title.into(),
            items,
            selected: 0,
            then,
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.items.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn chosen(&self) -> Option<&Choice> {
        self.items.get(self.selected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selection_stays_on_the_list() {
        let item = |n: &str| Choice {
            name: n.into(),
            detail: String::new(),
        };
        let mut c = Chooser::new("t", vec![item("a"), item("b")], Action::CommandDeploy);
        c.move_by(-1);
        assert_eq!(c.chosen().unwrap().name, "a");
        c.move_by(isize::MAX / 2);
        assert_eq!(c.chosen().unwrap().name, "b");
    }
}
