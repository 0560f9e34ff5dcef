//! Log lines: classification, the bounded buffer a tail fills, and time
//! expressions. Nothing here names an SDK type or a ratatui type.

pub mod line;
pub mod range;
pub mod store;

pub use line::{Kind, Level};
pub use range::{Range, parse_range, parse_time};
pub use store::{Line, LogStore};
