//! The HTML pages, one module per area: handlers and their view structs. A page module never
//! imports another page module; what two pages share is in `common` (view helpers) or `app`.

pub mod antivirus;
pub mod common;
pub mod followup;
pub mod review;
pub mod submissions;
