//! `lrs secrets set|exists|delete NAME`: manages credentials in the OS keychain. `set` reads the
//! value from standard input (one line, the trailing newline stripped; on a terminal it prompts on
//! stderr with echo off), never from an argument, and nothing printed ever contains it.
//!
//! Exit codes: 0 done (for `exists`: the entry exists); 1 the entry does not exist (`exists` only);
//! 2 bad usage, a refused value, or a keychain that cannot be used. Entries live under the service
//! `lrs-wizard`, or `$LRS_KEYCHAIN_SERVICE` when set (tests use it to stay apart).

use std::fmt;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::process::ExitCode;

use lrs_core::secrets::{Keychain, Secret};

/// Exit code for success (`exists`: the entry exists).
const EXIT_OK: u8 = 0;
/// Exit code of `exists` when there is no such entry.
const EXIT_ABSENT: u8 = 1;
/// Exit code for usage errors, refused values and an unusable keychain (clap uses 2 as well).
const EXIT_USAGE: u8 = 2;
/// Longest value accepted, far above any key or SAS token.
const MAX_VALUE_BYTES: usize = 64 * 1024;

#[derive(Debug, clap::Subcommand)]
pub enum SecretsCommand {
    /// Store a credential under NAME, replacing any value there. The value is read from standard
    /// input (one line; `lrs secrets set NAME < file`, or typed at the hidden prompt), never from
    /// an argument. Suggested names: storage/<account>/key, sas/<account>/<container>.
    Set {
        #[arg(value_name = "NAME")]
        name: String,
        /// Catches a value typed after NAME, to refuse it without repeating it (clap's own error
        /// would print it back).
        #[arg(hide = true, num_args = 0.., allow_hyphen_values = true, value_name = "VALUE")]
        value_argument: Vec<String>,
    },
    /// Exit 0 when an entry named NAME exists, 1 when it does not (2: the keychain cannot be used).
    Exists {
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Delete the entry named NAME (an entry that does not exist is reported, and is not an error).
    Delete {
        #[arg(value_name = "NAME")]
        name: String,
    },
}

pub fn run(command: &SecretsCommand) -> ExitCode {
    let keychain = Keychain::from_env();
    let outcome = match command {
        SecretsCommand::Set { value_argument, .. } if !value_argument.is_empty() => {
            Err("a value is never taken from an argument (it would stay in the shell history and the process list): \
             pipe it on standard input (`lrs secrets set NAME < file`), or run `lrs secrets set NAME` and type it \
             at the prompt"
                .to_owned())
        }
        SecretsCommand::Set { name, .. } => set(&keychain, name),
        SecretsCommand::Exists { name } => exists(&keychain, name),
        SecretsCommand::Delete { name } => delete(&keychain, name),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("lrs secrets: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn set(keychain: &Keychain, name: &str) -> Result<u8, String> {
    // Check the name before asking for a value that would then be thrown away.
    lrs_core::secrets::keychain::validate_name(name).map_err(|err| err.to_string())?;
    let value = read_value(name).map_err(|err| err.to_string())?;
    if value.expose().trim() != value.expose() {
        eprintln!("lrs secrets: warning: the value begins or ends with whitespace; it is stored as given");
    }
    let replaced = keychain.exists(name).map_err(|err| err.to_string())?;
    keychain.set(name, &value).map_err(|err| err.to_string())?;
    let verb = if replaced { "Replaced" } else { "Stored" };
    println!("{verb} {name} in the keychain (service {}).", keychain.service());
    Ok(EXIT_OK)
}

fn exists(keychain: &Keychain, name: &str) -> Result<u8, String> {
    if keychain.exists(name).map_err(|err| err.to_string())? {
        println!("{name} exists in the keychain (service {}).", keychain.service());
        Ok(EXIT_OK)
    } else {
        println!("No entry named {name} in the keychain (service {}).", keychain.service());
        Ok(EXIT_ABSENT)
    }
}

fn delete(keychain: &Keychain, name: &str) -> Result<u8, String> {
    if keychain.delete(name).map_err(|err| err.to_string())? {
        println!("Deleted {name} from the keychain (service {}).", keychain.service());
    } else {
        println!("No entry named {name} in the keychain (service {}): nothing to delete.", keychain.service());
    }
    Ok(EXIT_OK)
}

/// Why a value read from standard input was refused. Never holds the value.
#[derive(Debug, PartialEq, Eq)]
enum ValueError {
    Empty,
    MultipleLines,
    TooLong,
    NotText,
    Read(String),
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::Empty => f.write_str(
                "no value on standard input: pipe it in (`lrs secrets set NAME < file`) or type it at the prompt",
            ),
            ValueError::MultipleLines => f.write_str("standard input holds more than one line: give the value alone"),
            ValueError::TooLong => write!(f, "the value is longer than {MAX_VALUE_BYTES} bytes"),
            ValueError::NotText => f.write_str("the value on standard input is not UTF-8 text"),
            ValueError::Read(err) => write!(f, "cannot read standard input: {err}"),
        }
    }
}

/// The value from standard input: prompted for, with echo off, on a terminal; otherwise read whole.
fn read_value(name: &str) -> Result<Secret, ValueError> {
    let stdin = std::io::stdin();
    let mut bytes = Vec::new();
    if stdin.is_terminal() {
        let echo = EchoOff::start();
        let hidden = if echo.active { "input hidden" } else { "input is visible" };
        eprint!("Value for {name} ({hidden}): ");
        let _ = std::io::stderr().flush();
        let read = stdin.lock().take(MAX_VALUE_BYTES as u64 + 1).read_until(b'\n', &mut bytes);
        drop(echo);
        eprintln!();
        read.map_err(|err| ValueError::Read(err.to_string()))?;
    } else {
        stdin
            .lock()
            .take(MAX_VALUE_BYTES as u64 + 3)
            .read_to_end(&mut bytes)
            .map_err(|err| ValueError::Read(err.to_string()))?;
    }
    parse_value(bytes)
}

/// One line of text, its trailing `\n` or `\r\n` stripped and nothing else changed.
fn parse_value(mut bytes: Vec<u8>) -> Result<Secret, ValueError> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    if bytes.len() > MAX_VALUE_BYTES {
        return Err(ValueError::TooLong);
    }
    if bytes.contains(&b'\n') || bytes.contains(&b'\r') {
        return Err(ValueError::MultipleLines);
    }
    let value = String::from_utf8(bytes).map_err(|_| ValueError::NotText)?;
    if value.is_empty() {
        return Err(ValueError::Empty);
    }
    Ok(Secret::new(value))
}

/// Terminal echo turned off with `stty` (no extra dependency), restored when dropped or on Ctrl-C.
/// Where `stty` is missing (Windows), `active` is false and the prompt says the input is visible.
struct EchoOff {
    active: bool,
}

impl EchoOff {
    fn start() -> EchoOff {
        let active = stty("-echo");
        if active {
            restore_echo_on_interrupt();
        }
        EchoOff { active }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if self.active {
            stty("echo");
        }
    }
}

/// Runs `stty SETTING` on the terminal that is our standard input.
fn stty(setting: &str) -> bool {
    std::process::Command::new("stty")
        .arg(setting)
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Ctrl-C at the prompt would otherwise leave the terminal without echo.
fn restore_echo_on_interrupt() {
    std::thread::spawn(|| {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        if runtime.block_on(tokio::signal::ctrl_c()).is_ok() {
            stty("echo");
            eprintln!();
            std::process::exit(130);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(input: &[u8]) -> Result<String, ValueError> {
        parse_value(input.to_vec()).map(|secret| secret.expose().to_owned())
    }

    #[test]
    fn one_line_with_its_newline_stripped() {
        assert_eq!(parsed(b"key==\n"), Ok("key==".to_owned()));
        assert_eq!(parsed(b"key==\r\n"), Ok("key==".to_owned()));
        assert_eq!(parsed(b"key=="), Ok("key==".to_owned()));
        assert_eq!(parsed(b" spaced \n"), Ok(" spaced ".to_owned()), "nothing but the newline is removed");
        assert_eq!(parsed(b"?sv=2022-11-02&sig=x\n"), Ok("?sv=2022-11-02&sig=x".to_owned()));
    }

    #[test]
    fn refuses_empty_multi_line_long_and_binary_input() {
        assert_eq!(parsed(b""), Err(ValueError::Empty));
        assert_eq!(parsed(b"\n"), Err(ValueError::Empty));
        assert_eq!(parsed(b"a\nb\n"), Err(ValueError::MultipleLines));
        assert_eq!(parsed(b"a\n\n"), Err(ValueError::MultipleLines));
        assert_eq!(parsed(b"a\rb"), Err(ValueError::MultipleLines));
        assert_eq!(parsed(&vec![b'a'; MAX_VALUE_BYTES + 1]), Err(ValueError::TooLong));
        assert_eq!(parsed(b"\xff\xfe"), Err(ValueError::NotText));
    }
}
