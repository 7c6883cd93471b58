//! View helpers more than one page shows (never handlers): file lists, comment threads,
//! instruction lines.

pub mod comments;
pub mod files;
pub mod instructions;
