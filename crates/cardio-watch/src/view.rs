//! What the person at the station has chosen to see: which screen, the sort order, the filter, the
//! selected patient and whether the display is paused; and the keys that change it. The stream
//! never waits for any of it.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::ward::{Patient, Ward};

/// The order of the ward overview; `s` steps through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Sickest first: NEWS2 risk band, then score, then the most urgent sounding alarm.
    #[default]
    Risk,
    /// Most urgent sounding alarm first, then the number of alarms.
    Alarms,
    /// Longest without a reading first: silent monitors.
    Silent,
    /// Bed (patient id) order.
    Bed,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Risk => "risk",
            SortKey::Alarms => "alarms",
            SortKey::Silent => "silent",
            SortKey::Bed => "bed",
        }
    }

    fn next(self) -> Self {
        match self {
            SortKey::Risk => SortKey::Alarms,
            SortKey::Alarms => SortKey::Silent,
            SortKey::Silent => SortKey::Bed,
            SortKey::Bed => SortKey::Risk,
        }
    }
}

/// The screen on show.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Screen {
    #[default]
    Ward,
    /// One patient's hour of trends and alarm history.
    Patient(String),
}

/// What a key asks of the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Redraw,
    Quit,
    /// Nothing changed (a key with no meaning here, or any key but `p` and `q` while paused).
    None,
}

/// The station's view state.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub screen: Screen,
    pub sort: SortKey,
    /// Applied filter: part of a patient or device id, or a risk band (`high`, `medium`, …).
    pub filter: String,
    /// The filter being typed after `/`, until Enter or Esc.
    pub editing: Option<String>,
    /// The selected patient, by id, so the selection stays on the same bed as the order changes.
    pub selected: Option<String>,
    /// First row on screen of the overview.
    pub offset: usize,
    /// The display is frozen (the stream goes on).
    pub paused: bool,
}

impl View {
    /// The overview's rows: the filtered patients in the chosen order. Each patient's sort key is
    /// computed once (a 100,000-bed ward is sorted every frame), ties go by bed.
    pub fn rows<'w>(&self, ward: &'w Ward) -> Vec<&'w Patient> {
        let sounding = ward.sounding();
        let filter = self.filter.to_lowercase();
        // Larger is more urgent; absent ranks below every value.
        let rank = |x: Option<u8>| x.map_or(-1, i64::from);
        let mut keyed: Vec<([i64; 4], &Patient)> = ward
            .patients
            .iter()
            .filter(|p| filter.is_empty() || matches(p, &filter))
            .map(|p| {
                let (alarm, count) = sounding
                    .get(p.id.as_str())
                    .map_or((-1, 0), |&(pr, n)| (pr as i64, n as i64));
                let risk = rank(p.risk.map(|r| r as u8));
                let news2 = rank(p.news2);
                // Ascending order of the key: negate what sorts most urgent first.
                let key = match self.sort {
                    SortKey::Risk => [-risk, -news2, -alarm, -count],
                    SortKey::Alarms => [-alarm, -count, -risk, -news2],
                    SortKey::Silent => [p.last_ts.millis(), 0, 0, 0],
                    SortKey::Bed => [0; 4],
                };
                (key, p)
            })
            .collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        keyed.into_iter().map(|(_, p)| p).collect()
    }

    /// Position of the selected patient in `rows` (the first row when none is, or it is gone).
    pub fn selected_index(&self, rows: &[&Patient]) -> usize {
        self.selected
            .as_deref()
            .and_then(|id| rows.iter().position(|p| p.id == id))
            .unwrap_or(0)
    }

    /// Keeps the selected row among the `height` rows on screen.
    pub fn scroll_to_selection(&mut self, rows: &[&Patient], height: usize) {
        let i = self.selected_index(rows);
        if i < self.offset {
            self.offset = i;
        } else if height > 0 && i >= self.offset + height {
            self.offset = i + 1 - height;
        }
        self.offset = self.offset.min(rows.len().saturating_sub(height.max(1)));
    }

    fn move_selection(&mut self, ward: &Ward, by: isize) {
        let rows = self.rows(ward);
        if rows.is_empty() {
            return;
        }
        let i = self.selected_index(&rows) as isize + by;
        let i = i.clamp(0, rows.len() as isize - 1) as usize;
        self.selected = Some(rows[i].id.clone());
        if let Screen::Patient(_) = self.screen {
            self.screen = Screen::Patient(rows[i].id.clone());
        }
    }

    /// Applies one key press.
    pub fn key(&mut self, key: KeyEvent, ward: &Ward) -> Action {
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        if let Some(text) = &mut self.editing {
            match key.code {
                _ if ctrl_c => return Action::Quit,
                KeyCode::Enter => {
                    self.filter = self.editing.take().unwrap_or_default();
                    self.offset = 0;
                }
                KeyCode::Esc => self.editing = None,
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) => text.push(c),
                _ => return Action::None,
            }
            return Action::Redraw;
        }
        match key.code {
            KeyCode::Char('q') => return Action::Quit,
            _ if ctrl_c => return Action::Quit,
            KeyCode::Char('p') => self.paused = !self.paused,
            _ if self.paused => return Action::None,
            KeyCode::Down | KeyCode::Char('j') => self.move_selection(ward, 1),
            KeyCode::Up | KeyCode::Char('k') => self.move_selection(ward, -1),
            KeyCode::PageDown => self.move_selection(ward, 10),
            KeyCode::PageUp => self.move_selection(ward, -10),
            KeyCode::Home => self.move_selection(ward, isize::MIN / 2),
            KeyCode::End => self.move_selection(ward, isize::MAX / 2),
            KeyCode::Enter => {
                let rows = self.rows(ward);
                if let Some(p) = rows.get(self.selected_index(&rows)) {
                    self.selected = Some(p.id.clone());
                    self.screen = Screen::Patient(p.id.clone());
                }
            }
            KeyCode::Esc | KeyCode::Backspace | KeyCode::Left => self.screen = Screen::Ward,
            KeyCode::Char('/') => {
                self.screen = Screen::Ward;
                self.editing = Some(self.filter.clone());
            }
            KeyCode::Char('s') => self.sort = self.sort.next(),
            _ => return Action::None,
        }
        Action::Redraw
    }
}

fn matches(p: &Patient, filter: &str) -> bool {
    p.id.to_lowercase().contains(filter)
        || p.device_id.to_lowercase().contains(filter)
        || p.risk.is_some_and(|r| r.as_str() == filter)
}
