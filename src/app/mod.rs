//! Application state, actions and the update function: no I/O here.

pub mod action;
pub mod fleet;
pub mod list;
pub mod logs;
pub mod state;
pub mod update;
pub mod vpn;

pub use action::{Action, Effect};
pub use state::{Overlay, PanelId, Screen, Session, State};
pub use update::{Command, Hitmap, Msg};
