//! The one question the CLI asks: the name of the database an irreversible action concerns, typed
//! on standard input (the prompt goes to standard error, so `--json` output stays clean).

use std::io::{BufRead, Write};

use crate::failure::Failure;

/// Says what will happen, asks for `name` to be typed, and returns what was typed.
pub fn ask_name(consequence: &str, name: &str) -> Result<String, Failure> {
    eprint!("{consequence}.\nType the database name ({name}) to confirm: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::usage(format!("cannot read the confirmation: {e}")))?;
    eprintln!();
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
