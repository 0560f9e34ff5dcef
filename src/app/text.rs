//! The one text field: the list filter, the palette, the log view's prompts
//! and the confirm dialog's typed name all edit text through it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A line of text being typed, with a cursor.
///
/// A field opened holding a value ([`TextField::prefilled`]) behaves like a
/// selected field in a form: the first character typed replaces the value,
/// and an arrow key (or Home/End) starts editing it instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField {
    text: String,
    /// Byte offset, always at a char boundary.
    cursor: usize,
    /// The text is the pre-filled value, not yet touched.
    fresh: bool,
    /// Enter starts a new line; ctrl-s submits (an invoke's payload).
    multiline: bool,
}

/// What a key did to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The text changed.
    Changed,
    /// Only the cursor moved.
    Moved,
    /// Enter.
    Submit,
    /// Esc.
    Cancel,
    /// Not a key for the field (up, down, tab, …): the owner may use it.
    Ignored,
}

impl TextField {
    pub fn new() -> Self {
        TextField::default()
    }

    /// A field holding `value`, which the first character typed replaces.
    pub fn prefilled(value: impl Into<String>) -> Self {
        let text = value.into();
        TextField {
            cursor: text.len(),
            fresh: !text.is_empty(),
            text,
            multiline: false,
        }
    }

    /// A multi-line field holding `value` (pre-filled: the first character
    /// typed replaces it). Enter is a new line; ctrl-s submits.
    pub fn multiline(value: impl Into<String>) -> Self {
        TextField {
            multiline: true,
            ..TextField::prefilled(value)
        }
    }

    /// A field holding `value` to go on typing (a live filter).
    pub fn editing(value: impl Into<String>) -> Self {
        let text = value.into();
        TextField {
            cursor: text.len(),
            fresh: false,
            text,
            multiline: false,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor as a char index (for drawing).
    pub fn cursor_chars(&self) -> usize {
        self.text[..self.cursor].chars().count()
    }

    /// Whether the text is the untouched pre-filled value (drawn as selected).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
        self.fresh = false;
    }

    pub fn key(&mut self, key: KeyEvent) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Esc => Edit::Cancel,
            KeyCode::Char('s') if ctrl && self.multiline => Edit::Submit,
            KeyCode::Enter if self.multiline => {
                if self.fresh {
                    self.fresh = false;
                }
                self.text.insert(self.cursor, '\n');
                self.cursor += 1;
                Edit::Changed
            }
            KeyCode::Enter => Edit::Submit,
            KeyCode::Char('u') if ctrl => {
                self.text.replace_range(..self.cursor, "");
                self.cursor = 0;
                self.fresh = false;
                Edit::Changed
            }
            KeyCode::Char('w') if ctrl => {
                let head = self.text[..self.cursor].trim_end();
                let start = head.rfind(char::is_whitespace).map_or(0, |i| i + 1);
                self.text.replace_range(start..self.cursor, "");
                self.cursor = start;
                self.fresh = false;
                Edit::Changed
            }
            KeyCode::Char('a') if ctrl => self.moved(0),
            KeyCode::Char('e') if ctrl => self.moved(self.text.len()),
            KeyCode::Char(c) if !ctrl && !alt => {
                if self.fresh {
                    self.clear();
                }
                self.text.insert(self.cursor, c);
                self.cursor += c.len_utf8();
                Edit::Changed
            }
            KeyCode::Backspace if self.fresh => {
                self.clear();
                Edit::Changed
            }
            KeyCode::Backspace => match self.text[..self.cursor].chars().next_back() {
                Some(c) => {
                    self.cursor -= c.len_utf8();
                    self.text.remove(self.cursor);
                    Edit::Changed
                }
                None => Edit::Moved,
            },
            KeyCode::Delete => {
                self.fresh = false;
                if self.cursor < self.text.len() {
                    self.text.remove(self.cursor);
                    Edit::Changed
                } else {
                    Edit::Moved
                }
            }
            KeyCode::Left => {
                let to = self.text[..self.cursor]
                    .chars()
                    .next_back()
                    .map_or(0, |c| self.cursor - c.len_utf8());
                self.moved(to)
            }
            KeyCode::Right => {
                let to = self.text[self.cursor..]
                    .chars()
                    .next()
                    .map_or(self.cursor, |c| self.cursor + c.len_utf8());
                self.moved(to)
            }
            KeyCode::Home => self.moved(0),
            KeyCode::End => self.moved(self.text.len()),
            _ => Edit::Ignored,
        }
    }

    fn moved(&mut self, to: usize) -> Edit {
        self.cursor = to;
        self.fresh = false;
        Edit::Moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(f: &mut TextField, code: KeyCode) -> Edit {
        f.key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn typed(f: &mut TextField, s: &str) {
        for c in s.chars() {
            press(f, KeyCode::Char(c));
        }
    }

    #[test]
    fn a_prefilled_value_is_replaced_by_the_first_character() {
        let mut f = TextField::prefilled("15m");
        typed(&mut f, "1h");
        assert_eq!(f.text(), "1h");
    }

    #[test]
    fn an_arrow_key_starts_editing_the_prefilled_value() {
        let mut f = TextField::prefilled("15m");
        press(&mut f, KeyCode::Left);
        typed(&mut f, "0");
        assert_eq!(f.text(), "150m");
        press(&mut f, KeyCode::End);
        press(&mut f, KeyCode::Backspace);
        assert_eq!(f.text(), "150");
    }

    #[test]
    fn backspace_on_a_prefilled_value_clears_it() {
        let mut f = TextField::prefilled("15m");
        press(&mut f, KeyCode::Backspace);
        assert_eq!(f.text(), "");
    }

    #[test]
    fn a_multiline_field_takes_enter_as_a_new_line_and_submits_on_ctrl_s() {
        let mut f = TextField::multiline("{}");
        typed(&mut f, "{");
        assert_eq!(press(&mut f, KeyCode::Enter), Edit::Changed);
        typed(&mut f, "}");
        assert_eq!(f.text(), "{\n}");
        let ctrl_s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(f.key(ctrl_s), Edit::Submit);
        assert_eq!(TextField::new().key(ctrl_s), Edit::Ignored);
    }

    #[test]
    fn editing_keeps_to_char_boundaries() {
        let mut f = TextField::new();
        typed(&mut f, "äöü");
        press(&mut f, KeyCode::Left);
        press(&mut f, KeyCode::Backspace);
        assert_eq!((f.text(), f.cursor_chars()), ("äü", 1));
        f.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(f.text(), "ü");
        assert_eq!(press(&mut f, KeyCode::Up), Edit::Ignored);
        assert_eq!(press(&mut f, KeyCode::Enter), Edit::Submit);
    }
}
