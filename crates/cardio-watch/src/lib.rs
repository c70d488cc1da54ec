//! cardio-watch: a central monitoring station in the terminal, fed by the CardioStream stream
//! (`cardio-sim | cardio-alert | cardio-watch`). The ward state (`ward`) is updated record by
//! record on one thread while the screen (`render`) is redrawn at a steady rate on another, so the
//! display's cost does not grow with the input rate.

pub mod app;
pub mod cli;
pub mod render;
pub mod source;
pub mod terminal;
pub mod trend;
pub mod view;
pub mod ward;

pub use app::run;
