//! The pages: one module per area (handlers and their view structs), and `common` for the
//! view helpers two pages share. A page module never imports another page module.

pub mod antivirus;
pub mod common;
pub mod evidence;
pub mod gateway_logs;
pub mod home;
pub mod id_management;
pub mod inhouse;
pub mod outside;
pub mod profile;
pub mod structure;
pub mod submissions;
