//! Edge cases of the `.env` editor that `cargo mutants` showed no other test
//! would notice (`scripts/mutants.sh dotenv`): each test names the change to
//! the editor it fails on. Pure: no files, no keychain.

use latchkey_core::deploy::dotenv::{raw_assignments, remove_value, set_value, DotenvError};
use latchkey_core::deploy::{DotenvEditor, Editor};

fn set(text: &str, name: &str, value: &str) -> String {
    String::from_utf8(set_value(text.as_bytes(), name, value).expect("edit")).expect("utf-8")
}

/// What follows a closing quote with no blank before it (`"old"#c`, which
/// dotenvy reads as the value `old#c`) or after a blank but not as a
/// comment (`"old" x`, a line dotenvy rejects) is part of the old value: it
/// goes. Kept, the new line reads `v#c` or not at all and the edit is
/// refused (`push_kept_suffix`: `<` as `<=`, `&&` as `||`).
#[test]
fn what_follows_a_closing_quote_goes_unless_it_is_a_comment() {
    assert_eq!(set("K=\"old\"#c\n", "K", "v"), "K=\"v\"\n");
    assert_eq!(set("K='old'#c\n", "K", "v"), "K='v'\n");
    assert_eq!(set("K=\"old\" x\n", "K", "v"), "K=\"v\"\n");
    assert_eq!(set("K=\"old\" #c\n", "K", "v"), "K=\"v\" #c\n");
}

/// A refused name is echoed without its control characters (a terminal
/// escape in a name must not reach the error text).
#[test]
fn a_bad_names_control_characters_are_not_echoed() {
    let name = "1BAD\u{1b}[2J\u{7}";
    assert_eq!(
        set_value(b"A=1\n", name, "v"),
        Err(DotenvError::BadName("1BAD[2J".into()))
    );
    assert_eq!(
        remove_value(b"A=1\n", name),
        Err(DotenvError::BadName("1BAD[2J".into()))
    );
}

/// Removing a variable whose value spans lines is refused even when the
/// lines left behind would read as a comment (`#"` closes `K="a`): taking
/// out only the first line would leave half a value in the file.
#[test]
fn a_multi_line_value_is_never_half_removed() {
    for text in ["K=\"a\n#\"\n", "A=1\nK='a\n#'\nB=2\n"] {
        assert_eq!(
            remove_value(text.as_bytes(), "K"),
            Err(DotenvError::Unsupported),
            "{text:?}"
        );
    }
}

/// dotenvy reads `A=x"y` as opening a quote that the third line closes, so
/// `K=1` is part of A's value, not a variable: removing that line would
/// change A, and is refused (the check after a removal: refused when K is
/// still there *or* another variable changed, not only when both).
#[test]
fn a_removal_that_changes_another_variable_is_refused() {
    assert_eq!(
        remove_value(b"A=x\"y\nK=1\n\"\n", "K"),
        Err(DotenvError::Unsupported)
    );
    assert_eq!(remove_value(b"A=1\nK=1\n", "K").expect("remove"), b"A=1\n");
}

/// The read-back after a write compares every other assignment as written.
#[test]
fn raw_assignments_are_the_values_as_written() {
    let text = "\u{feff}export A = 'x' # c\nB=$K\nC=\"l1\r\nl2\" # d\n# K=no\nD=\n";
    let expected = [
        ("A", "'x'"),
        ("B", "$K"),
        ("C", "\"l1\r\nl2\" # d\n"),
        ("D", ""),
    ];
    assert_eq!(
        raw_assignments(text.as_bytes()).expect("utf-8"),
        expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(raw_assignments(b"\xff"), None);
}

/// The file target's check after writing: another assignment that changed
/// (even one only a `$` reference away) fails it; the target must read as
/// the new value, or be gone when removed.
#[test]
fn the_check_after_a_write_sees_another_variable_change() {
    let check = <DotenvEditor as Editor>::check_edit;
    assert!(check(b"A=1\nK=old\n", b"A=1\nK=new\n", "K", Some("new")));
    assert!(!check(b"A=1\nK=old\n", b"A=2\nK=new\n", "K", Some("new")));
    // A `$K` reference reads differently once K changed: not a change.
    assert!(check(b"A=$K\nK=old\n", b"A=$K\nK=new\n", "K", Some("new")));
    assert!(!check(
        b"A=$K\nK=old\n",
        b"A=${K}\nK=new\n",
        "K",
        Some("new")
    ));
    assert!(!check(b"A=1\nK=old\n", b"A=1\nK=old\n", "K", Some("new")));
    assert!(!check(b"A=1\nK=old\n", b"A=1\n", "K", Some("new")));
    assert!(check(b"A=1\nK=old\n", b"A=1\n", "K", None));
    assert!(!check(b"A=1\nK=old\n", b"A=1\nK=old\n", "K", None));
}

/// Names are letters, digits, `_` and `.` (dotenvy takes dotted names), not
/// `-` (`valid_name`: `c == '.'` as `c != '.'`).
#[test]
fn a_dotted_name_is_taken_and_a_dashed_one_refused() {
    assert_eq!(set("", "A.B", "v"), "A.B=v\n");
    assert!(matches!(
        set_value(b"", "A-B", "v"),
        Err(DotenvError::BadName(_))
    ));
}

/// `export` is a keyword only when a blank follows it: `exportK=old` is the
/// variable `exportK`, not `K`, so setting `K` adds a line
/// (`parse_assignment`: the guard after `export` as `true`).
#[test]
fn export_glued_to_a_name_is_part_of_the_name() {
    assert_eq!(set("exportK=old\n", "K", "v"), "exportK=old\nK=v\n");
}

/// An unquoted value may hold a double-quoted part with a blank in it
/// (`a"b c"`, which dotenvy reads as `ab c`): the blank inside the quotes
/// does not end the value, so all of it goes (`unquoted_len`: the test for
/// the closing `"` as `!=`, which ended the value at the blank).
#[test]
fn a_blank_inside_quotes_in_an_unquoted_value_is_part_of_it() {
    assert_eq!(set("K=a\"b c\"\n", "K", "v"), "K=v\n");
    assert_eq!(set("K=a\"b c\" # note\n", "K", "v"), "K=v # note\n");
}
