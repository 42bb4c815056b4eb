//! Every error code is produced by some test.
//!
//! `scripts/test.sh` runs the whole suite with `LATCHKEY_ERROR_CODES_SEEN`
//! naming a file; every error a debug build of the core, the CLI or the app
//! is asked the code of (an integration test's assertion, the CLI's
//! `[code]` and exit code, the app's IPC answer) appends its code there.
//! Then it runs this test (`--ignored`, no new build), which fails naming
//! each code of `ErrorCode::ALL` that no test ran into. The core's own unit
//! tests do not count: they build errors by hand.

use latchkey_core::ErrorCode;

/// Codes no input can produce through the public API, with the reason. The
/// check above fails if one of them is produced after all.
const UNREACHABLE: &[(ErrorCode, &str)] = &[(
    ErrorCode::TransitionRefused,
    "the rotation driver checks a rotation's state before every event it \
     sends the machine; only a driver bug reaches the machine's refusal, \
     which the machine's own table test covers",
)];

fn seen_file() -> Option<std::path::PathBuf> {
    std::env::var_os("LATCHKEY_ERROR_CODES_SEEN").map(Into::into)
}

#[test]
#[ignore = "run by scripts/test.sh after the whole suite, on the codes it saw"]
fn every_error_code_is_produced_by_some_test() {
    let path = seen_file().expect("LATCHKEY_ERROR_CODES_SEEN names the file the suite wrote");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let seen: std::collections::BTreeSet<&str> = text.lines().map(str::trim).collect();
    for line in &seen {
        assert!(
            line.is_empty() || ErrorCode::parse(line).is_some(),
            "{line:?} is not an error code"
        );
    }
    for (code, why) in UNREACHABLE {
        assert!(
            !seen.contains(code.as_str()),
            "{code} was produced after all ({why}): test it and take it off UNREACHABLE"
        );
    }
    let never: Vec<&str> = ErrorCode::ALL
        .iter()
        .filter(|c| !UNREACHABLE.iter().any(|(u, _)| u == *c))
        .map(|c| c.as_str())
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(
        never.is_empty(),
        "no test produced these error codes ({} of {} seen): {never:?}",
        ErrorCode::ALL.len() - never.len(),
        ErrorCode::ALL.len()
    );
}

/// The recorder itself, pointed at a file of its own so that this test's
/// hand-made error is not counted as produced: in a debug build, asking an
/// error's code appends it. (This binary holds no other test that runs in
/// the same pass, so changing the variable is safe.)
#[test]
fn asking_an_errors_code_records_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let own = dir.path().join("seen");
    let before = seen_file();
    std::env::set_var("LATCHKEY_ERROR_CODES_SEEN", &own);
    let code = latchkey_core::Error::Timeout.code();
    match before {
        Some(p) => std::env::set_var("LATCHKEY_ERROR_CODES_SEEN", p),
        None => std::env::remove_var("LATCHKEY_ERROR_CODES_SEEN"),
    }
    let text = std::fs::read_to_string(&own).expect("the file was written");
    assert_eq!(text, format!("{code}\n"));
}
