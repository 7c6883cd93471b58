//! The HTML pages, one module per area: handlers and their view structs. A page module never
//! imports another page module; what two pages share is in `common` (view helpers) or `app`.

pub mod antivirus;
pub mod common;
pub mod exports;
pub mod followup;
pub mod id_management;
pub mod review;
pub mod structure;
pub mod submissions;
