//! The `lrs-wizard` desktop binary: starts the app defined in the library.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    lrs_wizard::run();
}
