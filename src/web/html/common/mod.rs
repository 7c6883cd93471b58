//! View helpers more than one page shows (never handlers): file lists, comment threads,
//! instruction lines.

pub mod comments;
pub mod files;
pub mod holds;
pub mod instructions;
pub mod users;
