//! opsdeck: a terminal operations console for AWS deployments.
//!
//! Module boundaries: `ui` never names an SDK type, `aws` never names
//! ratatui; `app` holds state and the update function, and does no I/O.

pub mod app;
pub mod aws;
pub mod cli;
pub mod config;
pub mod jobs;
pub mod logs;
pub mod model;
pub mod pki;
pub mod runtime;
pub mod sandbox;
pub mod terminal;
pub mod ui;
