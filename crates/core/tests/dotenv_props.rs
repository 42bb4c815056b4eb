//! Property tests of the lossless `.env` editor (`set_value`). Files are
//! generated as structured lines (assignments in every syntax, comments,
//! blanks, `export`, a few invalid lines), each with the exact text the edit
//! must produce, so the changed line is checked byte for byte too: its
//! indent, `export `, spacing around `=`, quote style and ` # comment` stay.
//! An independent reader, dotenvy, then reads the edited file: the target
//! holds the new value exactly and every other variable is unchanged.
//! Refusals are counted and bounded, so refusing cannot pass the test.
//!
//! The quote style changes only where the old one cannot hold the value:
//! - unquoted stays unquoted when the value is non-empty and only uses
//!   `A-Za-z0-9-_./+=:@,%~`; otherwise it becomes double-quoted;
//! - single-quoted stays single-quoted unless the value holds a `'` or ends
//!   with a backslash (dotenvy would read `'a\'` as still open); otherwise
//!   it becomes double-quoted;
//! - double-quoted stays double-quoted, with `"`, `\` and `$` escaped.
//!
//! A value with a line break or NUL is refused (`BadValue`): a key is one line.

use latchkey_core::deploy::dotenv::{set_value, DotenvError};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const TARGET: &str = "API_KEY";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Quote {
    None,
    Single,
    Double,
}

/// One assignment, in the syntax it is written with.
#[derive(Debug, Clone)]
struct Assign {
    indent: &'static str,
    export: bool,
    name: String,
    before_eq: &'static str,
    after_eq: &'static str,
    quote: Quote,
    value: String,
    /// Blanks and a `#` comment after the value ("" for none).
    comment: String,
}

#[derive(Debug, Clone)]
enum Line {
    Blank(String),
    Comment(String),
    Assign(Assign),
    /// A line dotenvy rejects (never an assignment of the target).
    Invalid(String),
}

/// Characters values are made of: quotes, `#`, `$`, blanks, backslashes
/// and line breaks come up often.
fn value_char() -> impl Strategy<Value = char> {
    prop_oneof![
        30 => proptest::char::ranges(vec!['a'..='z', 'A'..='Z', '0'..='9'].into()),
        30 => proptest::sample::select(vec![
            '\'', '"', '#', '$', ' ', '\\', '\t', '=', '-', '_', '.', '/', '+', ':', '{', '}', 'é', '€',
        ]),
        1 => Just('\n'),
    ]
}

fn any_value(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(value_char(), 0..max).prop_map(|c| c.into_iter().collect())
}

/// A value that fits `quote` as an old value in a file (our own encoder,
/// not the editor's, writes it).
fn fit(value: String, quote: Quote) -> String {
    match quote {
        Quote::None => {
            let v: String = value
                .chars()
                .map(|c| {
                    if matches!(c, '\t' | '\n' | '{' | '}') {
                        'x'
                    } else {
                        c
                    }
                })
                .collect();
            if v.is_empty() || v.starts_with('#') {
                format!("v{v}")
            } else {
                v
            }
        }
        Quote::Single => {
            let mut v: String = value.replace('\'', "x");
            if v.ends_with('\\') {
                v.push('x');
            }
            v
        }
        Quote::Double => value,
    }
}

/// How a value is written in `quote` (escapes for unquoted and `"`).
fn encode(value: &str, quote: Quote) -> String {
    let mut out = String::new();
    match quote {
        Quote::Single => {
            out.push('\'');
            out.push_str(value);
            out.push('\'');
        }
        Quote::Double => {
            out.push('"');
            for c in value.chars() {
                if matches!(c, '"' | '\\' | '$') {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
        Quote::None => {
            for c in value.chars() {
                if matches!(c, '"' | '\\' | '$' | '\'' | ' ') {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out
}

impl Assign {
    fn text(&self, value: &str, quote: Quote) -> String {
        format!(
            "{}{}{}{}={}{}{}",
            self.indent,
            if self.export { "export " } else { "" },
            self.name,
            self.before_eq,
            self.after_eq,
            encode(value, quote),
            self.comment
        )
    }
}

/// The quote style the edit must write `new` in, given the old one.
fn expected_quote(old: Quote, new: &str) -> Quote {
    let plain = !new.is_empty()
        && new
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./+=:@,%~".contains(c));
    match old {
        Quote::None if plain => Quote::None,
        Quote::Single if !new.contains('\'') && !new.ends_with('\\') => Quote::Single,
        _ => Quote::Double,
    }
}

fn assign() -> impl Strategy<Value = Assign> {
    (
        (
            prop_oneof![Just(""), Just("  "), Just("\t")],
            any::<bool>(),
            prop_oneof![2 => Just(TARGET.to_owned()), 3 => "[A-Z_][A-Z0-9_.]{0,7}"],
            prop_oneof![3 => Just(""), 1 => Just(" "), 1 => Just("\t")],
            prop_oneof![3 => Just(""), 1 => Just(" ")],
        ),
        prop_oneof![Just(Quote::None), Just(Quote::Single), Just(Quote::Double)],
        any_value(16),
        any::<bool>(),
        prop_oneof![
            4 => Just(String::new()),
            1 => "( |\t)#[ -~]{0,12}",
            // dotenvy reads quotes after `  #` as opening a value.
            1 => "  #[a-z0-9 #$=.-]{0,12}",
        ],
    )
        .prop_map(
            |((indent, export, name, before_eq, after_eq), quote, value, empty, comment)| {
                // An empty unquoted value: blanks after `=` would be the
                // comment's (or trailing blanks), so none are generated.
                let (value, after_eq) = if quote == Quote::None && empty {
                    (String::new(), "")
                } else {
                    (fit(value, quote), after_eq)
                };
                Assign {
                    indent,
                    export,
                    name,
                    before_eq,
                    after_eq,
                    quote,
                    value,
                    comment: comment.trim_end().to_owned(),
                }
            },
        )
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        2 => prop_oneof![Just(""), Just("  ")].prop_map(|s| Line::Blank(s.to_owned())),
        2 => "( |  )?#[ -~]{0,20}".prop_map(|c| Line::Comment(c.trim_end().to_owned())),
        12 => assign().prop_map(Line::Assign),
        1 => prop_oneof![
            Just("not an assignment"),
            Just("OTHER=a b"),
            Just("=value"),
            Just("OTHER \"x\""),
        ]
        .prop_map(|s| Line::Invalid(s.to_owned())),
    ]
}

#[derive(Debug, Clone)]
struct File {
    lines: Vec<Line>,
    crlf: bool,
    bom: bool,
    trailing: bool,
}

impl File {
    fn nl(&self) -> &'static str {
        if self.crlf {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// The file's text, with the target set to `new` (expected edit) or not.
    fn text(&self, new: Option<&str>) -> String {
        let nl = self.nl();
        let rendered: Vec<String> = self
            .lines
            .iter()
            .map(|l| match l {
                Line::Blank(s) | Line::Comment(s) | Line::Invalid(s) => s.clone(),
                Line::Assign(a) => match new {
                    Some(v) if a.name == TARGET => a.text(v, expected_quote(a.quote, v)),
                    _ => a.text(&a.value, a.quote).replace('\n', nl),
                },
            })
            .collect();
        let mut text = String::new();
        if self.bom {
            text.push('\u{feff}');
        }
        text.push_str(&rendered.join(nl));
        if self.trailing && !self.lines.is_empty() {
            text.push_str(nl);
        }
        if let Some(v) = new {
            if !self.has_target() {
                // The file's line ending, or `\n` when it has none yet.
                let nl = if text.contains('\n') { nl } else { "\n" };
                let body_empty = text.trim_start_matches('\u{feff}').is_empty();
                let needs_break = !body_empty && !text.ends_with('\n');
                if needs_break {
                    text.push_str(nl);
                }
                text.push_str(TARGET);
                text.push('=');
                text.push_str(&encode(v, expected_quote(Quote::None, v)));
                if body_empty || !needs_break {
                    text.push_str(nl);
                }
            }
        }
        text
    }

    fn has_target(&self) -> bool {
        self.lines
            .iter()
            .any(|l| matches!(l, Line::Assign(a) if a.name == TARGET))
    }
}

fn file() -> impl Strategy<Value = File> {
    (
        proptest::collection::vec(line(), 0..10),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, bom, trailing)| File {
            lines,
            crlf,
            bom,
            trailing,
        })
}

/// dotenvy's reading: each line's variable or error, in order.
fn read(text: &str) -> Vec<Result<(String, String), String>> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    dotenvy::from_read_iter(body.as_bytes())
        .map(|r| r.map_err(|_| "a line dotenvy rejects".to_owned()))
        .collect()
}

fn line_is_valid(line: &Line) -> bool {
    match line {
        Line::Blank(s) | Line::Comment(s) | Line::Invalid(s) => read(s).iter().all(Result::is_ok),
        Line::Assign(a) => {
            let text = a.text(&a.value, a.quote);
            let got = read(&text);
            // Valid means read back as written, not just "no error".
            got.len() == 1 && got[0] == Ok((a.name.clone(), a.value.clone()))
        }
    }
}

fn cases() -> u32 {
    std::env::var("LK_DOTENV_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

#[derive(Default, Debug)]
struct Tally {
    cases: u32,
    lines: u32,
    valid_lines: u32,
    edited: u32,
    refused: u32,
    bad_value: u32,
    style_changed: u32,
}

#[test]
fn setting_a_value_changes_only_that_value_and_keeps_the_lines_syntax() {
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let tally = std::cell::RefCell::new(Tally::default());
    let mut runner = TestRunner::new(config);
    let result = runner.run(&(file(), any_value(24)), |(file, new)| {
        let mut t = tally.borrow_mut();
        t.cases += 1;
        t.lines += file.lines.len() as u32;
        t.valid_lines += file.lines.iter().filter(|l| line_is_valid(l)).count() as u32;
        let original = file.text(None);
        let result = set_value(original.as_bytes(), TARGET, &new);
        if new.contains(['\n', '\r', '\0']) {
            t.bad_value += 1;
            prop_assert_eq!(result, Err(DotenvError::BadValue));
            return Ok(());
        }
        let edited = match result {
            Ok(bytes) => String::from_utf8(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?,
            Err(DotenvError::Unsupported) => {
                // Refused: nothing was produced, so the file stays as it was.
                t.refused += 1;
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(format!("unexpected refusal {e:?}"))),
        };
        t.edited += 1;
        if file.lines.iter().any(|l| {
            matches!(l, Line::Assign(a) if a.name == TARGET && expected_quote(a.quote, &new) != a.quote)
        }) {
            t.style_changed += 1;
        }
        // Byte for byte: untouched lines, and the changed line's syntax.
        prop_assert_eq!(&edited, &file.text(Some(&new)), "original {:?}", original);
        // The independent reader: the target is the new value, others as before.
        let (before, after) = (read(&original), read(&edited));
        let others = |r: &[Result<(String, String), String>]| -> Vec<Result<(String, String), String>> {
            r.iter()
                .filter(|x| !matches!(x, Ok((k, _)) if k == TARGET))
                .cloned()
                .collect()
        };
        prop_assert_eq!(others(&before), others(&after), "another variable changed");
        let targets: Vec<&String> = after
            .iter()
            .filter_map(|x| x.as_ref().ok())
            .filter(|(k, _)| k == TARGET)
            .map(|(_, v)| v)
            .collect();
        prop_assert!(!targets.is_empty(), "the target is missing after the edit");
        prop_assert!(
            targets.iter().all(|v| **v == new),
            "target read as {:?}, expected {:?}",
            targets,
            new
        );
        Ok(())
    });
    let t = tally.into_inner();
    eprintln!("{t:?}");
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator makes mostly valid lines, so the reader checks matter.
    assert!(
        t.valid_lines * 10 >= t.lines * 9,
        "only {} of {} generated lines are valid",
        t.valid_lines,
        t.lines
    );
    // Refusing is allowed, but cannot be how the test passes.
    let tried = t.cases - t.bad_value;
    assert!(
        t.refused * 100 <= tried,
        "{} of {tried} edits refused",
        t.refused
    );
    // Every kind of outcome is exercised.
    assert!(t.bad_value > 0 && t.style_changed > 0 && t.edited * 2 > tried);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), new in "\\PC{0,30}") {
        let _ = set_value(&bytes, TARGET, &new);
    }
}
