//! The organisation's reports as pages: the system configuration form (item 4) with its
//! equipment list and import, the files of a draft, and the printable receipt (受付票).

pub mod configuration;
pub mod confirm;
pub mod files;
pub mod history;
pub mod receipt;
pub mod revise;
