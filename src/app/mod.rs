//! Application state, actions and the update function: no I/O here.

pub mod action;
pub mod choose;
pub mod confirm;
pub mod events;
pub mod fleet;
pub mod index;
pub mod invoke;
pub mod jobs;
pub mod lambda_deploy;
pub mod list;
pub mod logs;
pub mod palette;
pub mod state;
pub mod text;
pub mod update;
mod verbs;
pub mod vpn;

pub use action::{Action, Effect};
pub use state::{Overlay, PanelId, Screen, Session, State};
pub use update::{Command, Hitmap, Msg};
