//! The one integration-test binary. Every test runs on SQLite, and on PostgreSQL too when
//! `SECPORTAL_TEST_POSTGRES_URL` is set; browser journeys run when
//! `SECPORTAL_TEST_CHROMEDRIVER` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod api;
mod api_followup;
mod api_forms;
mod api_reports;
mod api_support;
mod app_layer;
mod audit;
mod auth;
mod axe;
mod backup;
mod browser;
mod browser_home;
mod browser_logs;
mod browser_passkey;
mod browser_queue;
mod browser_renewal;
mod browser_reports;
mod browser_revise;
mod catalogue;
mod exports;
mod faults;
mod file_stores;
mod files;
mod findings;
mod followup;
mod forms;
mod gateway_logs;
mod log_mapping;
mod log_recheck;
mod log_search;
mod metrics;
mod next_steps;
mod nodes;
mod onboarding;
mod outage;
mod queue;
mod queue_counts;
mod queue_next;
mod record;
mod reminder_windows;
mod renewal;
mod report_data;
mod reports;
mod retention;
mod review;
mod revise;
mod second_factor;
mod sheets;
mod structure;
mod system;
mod unlock;
mod users;
mod wd;
