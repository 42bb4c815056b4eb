//! `latchkey completions bash|zsh|fish`: each script is loaded by its real
//! shell and completes `latchkey comp` to `completions` there; an unknown
//! shell is bad usage (exit 2); no script needs the vault or the keychain.
//! bash, zsh and fish are Debian test packages (scripts/lib.sh).

use std::path::Path;
use std::process::{Command, Output};

/// `latchkey completions <shell>` with no keychain reachable and a data
/// directory that must stay absent.
fn script(shell: &str, home: &Path) -> String {
    let data = home.join("latchkey-data");
    let out = Command::new(crate::common::BIN)
        .args(["completions", shell])
        .env("LATCHKEY_DATA_DIR", &data)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()
        .expect("run latchkey");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        !data.exists(),
        "completions opened the vault: {} was created",
        data.display()
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 script");
    let file = home.join(format!("latchkey.{shell}"));
    std::fs::write(&file, &text).expect("write script");
    file.to_str().expect("path").to_owned()
}

/// Runs `code` in `shell` with a throwaway home (fish and zsh write there).
fn shell(shell: &str, args: &[&str], code: &str, home: &Path) -> Output {
    let out = Command::new(shell)
        .args(args)
        .arg(code)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .output()
        .unwrap_or_else(|e| {
            panic!("{shell} is needed for this test (scripts/lib.sh test_packages): {e}")
        });
    assert!(
        out.status.success(),
        "{shell} refused the script: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bash_loads_the_script_and_completes_a_command() {
    let home = tempfile::tempdir().expect("home");
    let file = script("bash", home.path());
    // The function bash registered for `latchkey`, called the way bash
    // calls it when Tab is pressed after `latchkey comp`.
    let code = format!(
        r#"source '{file}' || exit 1
spec=$(complete -p latchkey) || exit 1
echo "SPEC $spec"
fn=$(echo "$spec" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
COMP_WORDS=(latchkey comp); COMP_CWORD=1; COMP_LINE='latchkey comp'; COMP_POINT=13
"$fn" latchkey comp latchkey
echo "REPLY ${{COMPREPLY[*]}}""#
    );
    let out = stdout(&shell(
        "bash",
        &["--norc", "--noprofile", "-c"],
        &code,
        home.path(),
    ));
    let spec = out.lines().find(|l| l.starts_with("SPEC ")).expect(&out);
    assert!(
        spec.contains(" -F _latchkey ") && spec.ends_with(" latchkey"),
        "{out}"
    );
    let reply = out.lines().find(|l| l.starts_with("REPLY ")).expect(&out);
    assert!(reply.split(' ').any(|w| w == "completions"), "{out}");
    assert!(!reply.split(' ').any(|w| w == "rotate"), "{out}");
}

#[test]
fn zsh_loads_the_script_into_compsys() {
    let home = tempfile::tempdir().expect("home");
    let file = script("zsh", home.path());
    shell("zsh", &["-n"], &file, home.path());
    let code = format!(
        "autoload -U compinit && compinit -u -D && source '{file}' && print -r -- \"COMP $_comps[latchkey]\" && whence -w _latchkey"
    );
    let out = stdout(&shell("zsh", &["-f", "-c"], &code, home.path()));
    assert!(out.contains("COMP _latchkey"), "{out}");
    assert!(out.contains("_latchkey: function"), "{out}");
}

#[test]
fn fish_loads_the_script_and_completes_a_command() {
    let home = tempfile::tempdir().expect("home");
    let file = script("fish", home.path());
    shell("fish", &["--no-execute"], &file, home.path());
    let code = format!("source '{file}'; and complete --do-complete='latchkey comp'");
    let out = stdout(&shell("fish", &["--no-config", "-c"], &code, home.path()));
    assert!(
        out.lines()
            .any(|l| l.split('\t').next() == Some("completions")),
        "{out}"
    );
    let out = stdout(&shell(
        "fish",
        &["--no-config", "-c"],
        &format!("source '{file}'; and complete --do-complete='latchkey audit export --format '"),
        home.path(),
    ));
    assert!(out.lines().any(|l| l.starts_with("csv")), "{out}");
}

#[test]
fn an_unknown_shell_is_bad_usage() {
    for bad in ["powershell-ish", "tcsh", ""] {
        let out = Command::new(crate::common::BIN)
            .args(["completions", bad])
            .output()
            .expect("run latchkey");
        assert_eq!(out.status.code(), Some(2), "{bad}: {out:?}");
        assert!(out.stdout.is_empty(), "{bad}: a script was printed");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("possible values: bash, zsh, fish"), "{err}");
    }
}
