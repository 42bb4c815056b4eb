//! Child processes in tests, each with a bound: a child that hangs is
//! killed and fails its test instead of hanging the run. Shared by every
//! package's tests (`latchkey_testkit::process`).
#![allow(dead_code)]

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Long enough for any short command on a loaded machine.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// Waits for `child` to exit, at most `timeout`; past it the child is
/// killed and the test fails.
pub fn wait_within(child: &mut Child, timeout: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} was still running after {timeout:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `Child::wait_with_output` with a bound: its stdout and stderr (those
/// that are piped) are read while it runs.
pub fn output_of(mut child: Child, timeout: Duration, what: &str) -> Output {
    drop(child.stdin.take());
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = wait_within(&mut child, timeout, what);
    // A process it left behind may hold a pipe open: bounded too.
    let collect = |rx: mpsc::Receiver<Vec<u8>>| match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(bytes) => bytes,
        Err(mpsc::RecvTimeoutError::Disconnected) => Vec::new(),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: its output did not end"),
    };
    Output {
        status,
        stdout: collect(stdout),
        stderr: collect(stderr),
    }
}

/// `Command::output` with a bound (stdin empty).
pub fn output_within(command: &mut Command, timeout: Duration) -> Output {
    let what = format!("{command:?}");
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    output_of(child, timeout, &what)
}

fn drain(pipe: Option<Box<dyn Read + Send>>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send(bytes);
        });
    }
    rx
}
