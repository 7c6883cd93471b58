//! The HTML pages, one module per area: handlers and their view structs. A page module never
//! imports another page module; what two pages share is in `common` (view helpers) or `app`.

pub mod account;
pub mod antivirus;
pub mod catalogue;
pub mod common;
pub mod evidence;
pub mod exports;
pub mod followup;
pub mod gateway_logs;
pub mod home;
pub mod id_management;
pub mod inbox;
pub mod inhouse;
pub mod log_search;
pub mod onboarding;
pub mod orgs;
pub mod outside;
pub mod profile;
pub mod retention;
pub mod return_reasons;
pub mod review;
pub mod second_factor;
pub mod structure;
pub mod submissions;
pub mod trail;
pub mod unlock;
pub mod users;
