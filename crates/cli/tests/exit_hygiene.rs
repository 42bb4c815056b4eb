//! What the real `latchkey` process leaves behind when it ends badly: no
//! core file and no readable memory (core limit 0, not dumpable), and no
//! key on the clipboard when a `copy` is interrupted by SIGINT, SIGTERM or
//! SIGHUP — unless the clipboard holds someone else's text by then.
//! The clipboard test runs under xvfb-run and scripts/with-keyring.sh; the
//! core test needs neither, and runs as root or not.
#![cfg(target_os = "linux")]

mod common;

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("gave up waiting for {what}");
    false
}

fn signal(child: &Child, name: &str) {
    let out = process::output_within(
        Command::new("kill").args([format!("-{name}"), child.id().to_string()]),
        process::CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "kill -{name}");
}

/// `Max core file size` from /proc/PID/limits: (soft, hard).
fn core_limit(pid: u32) -> Option<(String, String)> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))?;
    let mut fields = line["Max core file size".len()..].split_whitespace();
    Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
}

fn core_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("core"))
        .collect()
}

/// The owner of `/proc/PID`: the process's own user while it is dumpable,
/// root once it is not (proc(5), PR_SET_DUMPABLE).
fn proc_owner(pid: u32) -> Option<u32> {
    std::fs::metadata(format!("/proc/{pid}/status"))
        .ok()
        .map(|m| m.uid())
}

/// A user other than root to run as: `nobody` when we are root, else us.
fn runner_uid() -> (u32, u32) {
    let ours = std::fs::metadata("/proc/self").expect("proc").uid();
    if ours == 0 {
        (65534, 65534)
    } else {
        (ours, std::fs::metadata("/proc/self").expect("proc").gid())
    }
}

/// Runs `program args` with `ulimit -c unlimited` in `cwd`, as a user other
/// than root (so that `/proc/PID`'s owner tells whether it is dumpable).
fn with_unlimited_cores(cwd: &Path, program: &str, args: &[&str]) -> Command {
    let (uid, gid) = runner_uid();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -c unlimited && exec \"$0\" \"$@\"")
        .arg(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if uid != std::fs::metadata("/proc/self").expect("proc").uid() {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn open_dir(path: &Path) {
    std::fs::create_dir_all(path).expect("mkdir");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).expect("chmod");
}

#[test]
fn a_crashing_cli_leaves_no_core_and_no_readable_memory() {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    eprintln!("core_pattern: {}", pattern.trim());
    let root = tempfile::tempdir().expect("tempdir");
    open_dir(root.path());
    let (uid, _) = runner_uid();

    // The control: an ordinary process under the same conditions dumps core
    // and owns its /proc entry, so the checks below can fail.
    let control_dir = root.path().join("control");
    open_dir(&control_dir);
    let mut control = with_unlimited_cores(&control_dir, "sleep", &["30"])
        .spawn()
        .expect("sleep");
    assert!(wait_for(
        "the control's limit",
        Duration::from_secs(5),
        || { core_limit(control.id()).is_some_and(|(soft, _)| soft == "unlimited") }
    ));
    assert_eq!(proc_owner(control.id()), Some(uid), "the control's owner");
    signal(&control, "ABRT");
    let status = process::wait_within(&mut control, process::CHILD_TIMEOUT, "the control");
    let control_dumped = status.core_dumped();
    if control_dumped {
        assert!(
            !core_files(&control_dir).is_empty() || pattern.starts_with('|'),
            "core_pattern writes elsewhere: {pattern}"
        );
    } else {
        eprintln!("note: no core even for the control here ({pattern:?}); only the limit and dumpability are checked");
    }

    // A D-Bus "session bus" that never answers: the keychain probe waits
    // on it, which keeps latchkey alive (without any keyring) to be looked
    // at and signalled.
    let bus_dir = root.path().join("bus");
    open_dir(&bus_dir);
    let bus_path = bus_dir.join("socket");
    let _bus = std::os::unix::net::UnixListener::bind(&bus_path).expect("bind");
    std::fs::set_permissions(&bus_path, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let cwd = root.path().join("cwd");
    open_dir(&cwd);
    let mut latchkey = with_unlimited_cores(&cwd, BIN, &["list"]);
    latchkey
        .env("LATCHKEY_DATA_DIR", root.path().join("data"))
        .env("LATCHKEY_KEYCHAIN_TIMEOUT_SECS", "60")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", bus_path.display()),
        );
    let mut latchkey = latchkey.spawn().expect("latchkey");
    let pid = latchkey.id();
    let limited = wait_for("latchkey's core limit", Duration::from_secs(10), || {
        core_limit(pid).is_some_and(|limit| limit == ("0".into(), "0".into()))
    });
    // Not dumpable: /proc/PID turns root's once it is set (waited for,
    // bounded, not guessed with a pause).
    wait_for("latchkey not dumpable", Duration::from_secs(10), || {
        proc_owner(pid) == Some(0)
    });
    let owner = proc_owner(pid);
    let alive = latchkey.try_wait().expect("try_wait").is_none();
    // SIGABRT: Rust's own SIGSEGV handler (stack overflow detection)
    // survives a SIGSEGV sent by kill(2) once; a core-dumping signal with
    // no handler shows the kernel's default action.
    signal(&latchkey, "ABRT");
    let status = process::wait_within(&mut latchkey, process::CHILD_TIMEOUT, "latchkey");
    assert!(alive, "latchkey ended before it was signalled: {status:?}");
    assert!(limited, "core limit: {:?}", core_limit(pid));
    assert_eq!(
        owner,
        Some(0),
        "latchkey is dumpable (its /proc entry is not root's)"
    );
    assert_eq!(status.signal(), Some(6), "{status:?}");
    assert!(!status.core_dumped(), "latchkey dumped core");
    assert_eq!(core_files(&cwd), Vec::<String>::new());
}

fn xclip_out() -> String {
    let out = process::output_within(
        Command::new("xclip").args(["-selection", "clipboard", "-o"]),
        process::CHILD_TIMEOUT,
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn xclip_in(text: &str) {
    let mut xclip = Command::new("xclip")
        .args(["-selection", "clipboard", "-i"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xclip");
    xclip
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    // xclip forks to serve the selection; the parent returns at once.
    process::wait_within(&mut xclip, process::CHILD_TIMEOUT, "xclip -i");
}

fn copy(cli: &Cli) -> Child {
    cli.command(&["copy", "deploy"])
        .env("LATCHKEY_CLIPBOARD_CLEAR_SECS", "120")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("latchkey copy")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_copy_clears_the_clipboard_but_spares_someone_elses_text() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run"
    );
    let service = key_service(false).await;
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    cli.add_provider(&service, "acme", "web");
    let key = cli.create("acme", "deploy", "API_KEY");

    for (name, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let child = copy(&cli);
        assert!(
            wait_for("the copy", Duration::from_secs(20), || xclip_out() == key),
            "never copied"
        );
        signal(&child, name);
        let out = process::output_of(child, process::CHILD_TIMEOUT, "latchkey copy");
        assert_eq!(
            out.status.code(),
            Some(code),
            "SIG{name}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_ne!(xclip_out(), key, "SIG{name} left the key on the clipboard");
    }

    // Someone copies something else meanwhile: it is left alone.
    let child = copy(&cli);
    assert!(wait_for("the copy", Duration::from_secs(20), || xclip_out() == key));
    xclip_in("someone else's text");
    assert!(wait_for("their copy", Duration::from_secs(5), || {
        xclip_out() == "someone else's text"
    }));
    signal(&child, "TERM");
    let out = process::output_of(child, process::CHILD_TIMEOUT, "latchkey copy");
    assert_eq!(out.status.code(), Some(143), "{:?}", out.status);
    assert_eq!(xclip_out(), "someone else's text");
}
