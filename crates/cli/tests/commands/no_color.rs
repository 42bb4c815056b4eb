//! `NO_COLOR`: the CLI's own output is never styled; clap's help and error
//! messages are, on a terminal that takes colour, unless `NO_COLOR` is set
//! (and not empty). Run under a real pseudo-terminal (`script` from
//! bsdutils), so the colour checks see what a person would.

use std::process::Command;

const ESC: char = '\u{1b}';

/// `latchkey <args>` on a pseudo-terminal (stdout and stderr both), with
/// `TERM=xterm-256color`; what the terminal received.
fn on_tty(args: &str, no_color: Option<&str>) -> String {
    let mut cmd = Command::new("script");
    cmd.args([
        "-qec",
        &format!("'{}' {args}", crate::common::BIN),
        "/dev/null",
    ])
    .env("TERM", "xterm-256color")
    .env_remove("CLICOLOR")
    .env_remove("CLICOLOR_FORCE")
    .env_remove("NO_COLOR");
    if let Some(value) = no_color {
        cmd.env("NO_COLOR", value);
    }
    let out = cmd
        .output()
        .expect("`script` (bsdutils) is needed for this test");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Help and a usage error, the two things clap writes itself.
const CASES: [&str; 3] = ["--help", "rotate --help", "--no-such-flag"];

#[test]
fn without_no_color_a_terminal_gets_clap_colours() {
    for args in CASES {
        let out = on_tty(args, None);
        assert!(out.contains("Usage"), "{args}: {out}");
        assert!(out.contains(ESC), "{args}: no styling on a tty: {out:?}");
    }
}

#[test]
fn no_color_leaves_no_escape_on_a_terminal() {
    for args in CASES {
        let out = on_tty(args, Some("1"));
        assert!(out.contains("Usage"), "{args}: {out}");
        assert!(
            !out.contains(ESC),
            "{args}: styled despite NO_COLOR: {out:?}"
        );
    }
    // The exit code is untouched: bad usage is still 2.
    let status = Command::new("script")
        .args([
            "-qec",
            &format!("'{}' --no-such-flag", crate::common::BIN),
            "/dev/null",
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("script")
        .status;
    assert_eq!(status.code(), Some(2));
}

#[test]
fn an_empty_no_color_does_not_count() {
    // no-color.org: "present and not an empty string".
    let out = on_tty("--help", Some(""));
    assert!(out.contains(ESC), "{out:?}");
}

#[test]
fn a_pipe_gets_no_colour_even_without_no_color() {
    for args in CASES {
        let out = Command::new(crate::common::BIN)
            .args(args.split(' '))
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .output()
            .expect("run latchkey");
        let text = [out.stdout, out.stderr].concat();
        assert!(!text.contains(&0x1b), "{args}: styled into a pipe");
    }
}
