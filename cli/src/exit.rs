//! Exit codes, one per outcome a script may want to tell apart. The command run by `run` and
//! `elect` passes its own status through, so ours sit in the sysexits range, which commands
//! rarely use, and 128+N keeps the shell's meaning of "killed by signal N".

use fencelock::ErrorKind;

/// The documented exit codes (also in `--help` and cli/README.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The operator declined a confirmation.
    Declined = 1,
    /// Bad arguments, key, lease or state.
    Usage = 64,
    /// The backend failed or could not be reached.
    Backend = 69,
    /// Something fencelock did not expect (a bug: please report it).
    Internal = 70,
    /// The lock is held: `--timeout 0` found it taken, or `break` refused a live lease.
    Held = 73,
    /// The lock was not acquired within `--timeout`.
    Timeout = 75,
    /// The lock (or leadership) was lost while the command ran; the command was stopped.
    Lost = 76,
    /// The command could not be started (not found or not executable).
    CannotRun = 127,
}

impl Exit {
    /// The exit code for a core error.
    pub fn of(e: &fencelock::Error) -> Exit {
        match e.kind() {
            ErrorKind::Timeout => Exit::Timeout,
            ErrorKind::Held => Exit::Held,
            ErrorKind::Expired | ErrorKind::NotHeld => Exit::Lost,
            ErrorKind::InvalidKey | ErrorKind::InvalidArgument | ErrorKind::StateTooLarge => {
                Exit::Usage
            }
            ErrorKind::Backend | ErrorKind::Closed => Exit::Backend,
            _ => Exit::Internal,
        }
    }
}

/// The exit-code table shown by `--help`.
pub const TABLE: &str = "\
Exit codes:
  0    success (run, elect: the command's own exit status)
  1    a confirmation was declined (break --force)
  64   usage: bad arguments, key, lease or state
  69   backend error: the server failed or could not be reached
  70   internal error (please report it)
  73   held: --timeout 0 found the lock taken, or break refused a live lease
  75   timeout: the lock was not acquired within --timeout
  76   lost: the lock or leadership was lost while the command ran; it was stopped
  127  the command could not be started
  128+N  the command was killed by signal N";

/// An error to print and the code to exit with.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            message: message.into(),
        }
    }
}

impl From<fencelock::Error> for Failure {
    fn from(e: fencelock::Error) -> Failure {
        Failure::new(Exit::of(&e), e.to_string())
    }
}

pub type CliResult<T> = Result<T, Failure>;
